"""The planners' dashboard: compare rollout designs in Streamlit (`run.py dashboard`).

Modules: `spec` (what a planner asks for, validated), `compute` (cached scenario runs and
reviews), `editor` (one widget per design field), `tables` (KPI and review tables),
`plots` (matplotlib PNGs: scenario plots, cost breakdown, map), `export` (the council
report) and `app` (the Streamlit page, which only reads and asks).
"""
