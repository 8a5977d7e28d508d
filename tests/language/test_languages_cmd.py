"""`regimens languages` lists every language with its catalog hash and review state."""

from __future__ import annotations

import hashlib

from regimens.language.catalogs import shipped_dir


def test_lists_languages_with_hash_and_state(run_cli, tmp_path):
    code, out, err = run_cli("languages")
    assert code == 0, err
    lines = {line.split()[0]: line for line in out.splitlines()}
    assert set(lines) == {"ar", "en", "es", "vi", "zh_Hans"}
    es_hash = hashlib.sha256((shipped_dir() / "es" / "LC_MESSAGES" / "regimens.po").read_bytes()).hexdigest()
    assert es_hash in lines["es"] and "NOT REVIEWED" in lines["es"]
    assert "rtl" in lines["ar"] and "source language" in lines["en"]
    reviews = tmp_path / "reviews.yaml"
    reviews.write_text(f'es:\n  reviewed_by: "R. Pharmacist"\n  date: 2027-02-01\n  catalog_sha256: "{es_hash}"\n')
    code, out, err = run_cli("languages", "--language-reviews", str(reviews))
    assert code == 0, err
    assert "reviewed by R. Pharmacist on 2027-02-01" in out


def test_template_is_written_for_translators(run_cli, tmp_path):
    target = tmp_path / "regimens.pot"
    code, out, err = run_cli("languages", "--template", "-o", str(target))
    assert code == 0, err
    assert "This translation has not yet been reviewed" in target.read_text(encoding="utf-8")


def test_unreadable_review_file_is_one_line(run_cli, tmp_path):
    code, out, err = run_cli("languages", "--language-reviews", str(tmp_path / "missing.yaml"))
    assert code == 2 and err.count("\n") == 1 and "cannot read language reviews" in err
