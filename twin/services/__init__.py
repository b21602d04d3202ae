"""The nine seed services (独自活用), one module per service key.

Service keys (SERVICES.md): `onecard`, `linkage`, `certificates`, `vitals`, `portal`,
`business`, `safety` (card-tap safety confirmation: shelters, family look-up, head counts,
child watch), `payments`, `faceid` (face-photo identity check). Each module is engine-free:
time comes in as `now`, randomness as a numpy Generator, and entities record typed events.
"""
