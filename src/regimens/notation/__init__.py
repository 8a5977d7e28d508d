"""How doses and drug names are written on every output: ISMP number and unit notation, the
"not public" marker, tall-man lettering and site tall-man lists.

Layer 1: imports only `regimens.errors`. Everything above it writes through here.
"""
