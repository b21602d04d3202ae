"""Calibration (較正): published figures with sources, the SciPy fits, and the validation table.

Scenarios read the fitted parameters through `calibration.params.fitted()`.
"""
