"""ISMP notation (ISMP error-prone abbreviations list; reference safety-notation-and-exports.md):
no trailing zero, a leading zero below 1, commas at >= 1,000, mcg never µg, units spelled out,
and tall-man lettering from a replaceable list of verified US entries."""

from __future__ import annotations

import pytest

from regimens.notation.ismp import DEFAULT_TALL_MAN, format_dose, format_number, ismp_clean, tall_man
from regimens.protocol import units


@pytest.mark.parametrize(("value", "text"), [
    (5.0, "5"),          # never "5.0 mg"
    (0.5, "0.5"),        # never ".5 mg"
    (0.25, "0.25"),
    (2.50, "2.5"),
    (1000, "1,000"),     # commas at >= 1,000
    (2000.0, "2,000"),
    (1.234567, "1.235"),  # three decimals at most
    (0.0004, "0.0004"),  # a tiny dose never prints as 0
    (0.00012345, "0.000123"),
    (0, "0"),
])
def test_numbers(value, text):
    assert format_number(value) == text


def test_doses_and_the_not_public_marker():
    assert format_dose(0.8, "mg/m2") == "0.8 mg/m²"
    assert format_dose(28, "mcg/day") == "28 mcg/day"
    assert format_dose(None, None) == "dose per full protocol (not public)"


@pytest.mark.parametrize(("bad", "good"), [("µg", "mcg"), ("ug", "mcg"), ("ug/day", "mcg/day"),
                                           ("U", "units"), ("IU", "units"), ("cc", "mL"),
                                           ("U/m2", "units/m2")])
def test_error_prone_units_refused_with_the_safe_spelling(bad, good):
    with pytest.raises(ValueError, match=f"write '{good}'"):
        units.lookup(bad)


def test_unknown_unit_lists_the_vocabulary():
    with pytest.raises(ValueError, match="unknown unit 'mg/lb'.*mcg/m2/day"):
        units.lookup("mg/lb")


def test_every_unit_basis():
    assert units.lookup("mcg/m2/day").basis is units.Basis.PER_M2
    assert units.lookup("mcg/m2/day").patient_unit == "mcg/day"
    assert units.lookup("mg/kg").basis is units.Basis.PER_KG
    assert units.lookup("units").basis is units.Basis.FLAT


def test_tall_man_verified_entries_only():
    assert tall_man("vincristine then doxorubicin") == "vinCRIStine then DOXOrubicin"
    assert tall_man("Rituximab") == "riTUXimab"
    # not verified on the US list (reference): left as written
    assert "cyclophosphamide" not in DEFAULT_TALL_MAN and tall_man("cyclophosphamide") == "cyclophosphamide"
    assert "idarubicin" not in DEFAULT_TALL_MAN


def test_site_list_replaces_and_is_not_stale():
    site = {"cyclophosphamide": "cycloPHOSphamide"}
    assert tall_man("cyclophosphamide, vincristine", site) == "cycloPHOSphamide, vincristine"
    other = {"vincristine": "vinCRIStine"}
    assert tall_man("cyclophosphamide, vincristine", other) == "cyclophosphamide, vinCRIStine"
    assert tall_man("vincristine", {}) == "vincristine"


def test_micro_sign_cleaned_from_free_text():
    assert ismp_clean("up to 28 µg/day") == "up to 28 mcg/day"
    assert ismp_clean("28 μg") == "28 mcg"  # Greek mu as well as the micro sign
