"""Per-patient doses: measurements and BSA formulas, dose resolution (basis, bands, caps,
modifications), and rounding rules (shipped data in data/, site override file).

Layer 4: imports errors, notation, protocol and schedule. Turns a Timeline into one with patient
doses and the working of each; never changes a date.
"""
