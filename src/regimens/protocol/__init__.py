"""The protocol format and its reading: the unit vocabulary, day and cycle notations, the pydantic
schema a file is validated with and the plain model every run reads, cross-field checks, the YAML
loader (with line numbers for every problem), the catalog of shipped and site protocols, and the
readable summary behind `regimens show`.

Layer 2: imports `regimens.errors` and `regimens.notation` only. Knows nothing of patients.
"""
