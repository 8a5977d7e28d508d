"""A patient output whose catalog lacks some messages prints them in English (marked) and the
command says, in one note on stderr, how many: not an error, exit 0 (issue 18). The site catalogs
here are the shipped Spanish one with one or two messages taken out, so the count is known."""

from __future__ import annotations

import re

from regimens.language.catalogs import shipped_dir

SPANISH = (shipped_dir() / "es" / "LC_MESSAGES" / "regimens.po").read_text(encoding="utf-8")
NOTE = re.compile(r"regimens: note: (\d+) texts? of this output ha(?:s|ve) no Spanish translation")


def _without(tmp_path, *msgids: str):
    """A site folder whose es.po is the shipped catalog minus these entries."""
    blocks = SPANISH.split("\n\n")
    kept = [b for b in blocks if not any(f'\nmsgid "{m}"\n' in "\n" + b + "\n" for m in msgids)]
    assert len(kept) == len(blocks) - len(msgids), "each message is one entry of the catalog"
    site = tmp_path / "site"
    site.mkdir()
    (site / "es.po").write_text("\n\n".join(kept), encoding="utf-8")
    return site


def test_ics_counts_the_messages_printed_in_english(run_cli, tmp_path):
    args = ("ics", "nct03114865", "--start", "2027-01-04", "--tz", "America/Chicago", "--language", "es")
    code, out, err = run_cli(*args, "-o", str(tmp_path / "full.ics"))
    assert code == 0, err
    assert "note:" not in err  # the shipped catalog is complete
    site = _without(tmp_path, "Medicine: %(drug)s", "Dose: %(dose)s")
    code, out, err = run_cli(*args, "--languages", str(site), "-o", str(tmp_path / "part.ics"))
    assert code == 0, err
    assert [m.group(1) for m in NOTE.finditer(err)] == ["2"]
    text = (tmp_path / "part.ics").read_text(encoding="utf-8").replace("\r\n ", "")
    assert "(English) Medicine: blinatumomab" in text and "Medicamento:" not in text


def test_patient_calendar_counts_one_message(run_cli, tmp_path):
    site = _without(tmp_path, "What to bring to every visit")
    code, out, err = run_cli("sheet", "nct03114865", "--start", "2027-01-04", "--kind", "patient", "--language", "es",
                             "--languages", str(site), "-o", str(tmp_path / "c.html"))
    assert code == 0, err
    assert [m.group(1) for m in NOTE.finditer(err)] == ["1"]
    assert "1 text of this output has" in err
    html = (tmp_path / "c.html").read_text(encoding="utf-8")
    assert 'class="untranslated">What to bring to every visit</span>' in html
