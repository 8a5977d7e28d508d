"""The patient plan file (the truth of one patient's course: protocol identity, choices,
measurements, actual starts, holds, modifications, revision) and the preview of what a change
moves.

Layer 5: imports everything below it (errors … dosing); never exporters, cli or web.
"""
