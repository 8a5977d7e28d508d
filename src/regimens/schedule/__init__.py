"""From a protocol and a schedule request (start date, arm, choices, actual starts) to the
timeline IR: the request, the compiler passes (compiler/), and the frozen Timeline / DoseEvent.

Layer 3: imports errors, notation and protocol. Doses here are as written, not per patient.
"""
