"""The "HQ live" tab: a running service's state and forecast, fetched only when the operator presses Refresh."""

from __future__ import annotations

import streamlit as st

from dashboards import hq_client as hq

NOTE = ("The forecast's figures are **95 % prediction intervals** over replications of a **reduced model** "
        "(households at card readers and paper desks, redirects when a shelter is full; no face desks, "
        "departures or future reader outages) started from the live state; in the project's check "
        "its intervals covered the outcome in 37 of 40 simulated events (`python -m benchmarks nowcast`). "
        f"What the model cannot see is listed under *What the forecast lacked*. See `{hq.DOC}`.")


def inputs() -> dict:
    """The operator's question: where, with which credentials, the main shock, the what-if."""
    left, right = st.columns(2)
    got = {"url": left.text_input("Service URL", "http://127.0.0.1:8000", key="hq:url"),
           "credentials": left.text_input("HQ credentials (the service's data folder or its credentials.json)",
                                          "", key="hq:credentials",
                                          help="`run.py serve --data FOLDER` writes FOLDER/credentials.json"),
           "quake": right.text_input("Main shock (JST, YYYY-MM-DDTHH:MM)", "", key="hq:quake",
                                     help="Empty: the state only, no forecast."),
           "add": right.text_area("What-if: more readers (SHELTER=N, one per line)", "", key="hq:add",
                                  height=68)}
    a, b = right.columns(2)
    got["reps"] = int(a.number_input("Replications", 10, 1000, 100, step=10, key="hq:reps"))
    got["seed"] = int(b.number_input("Seed", 0, value=0, key="hq:seed"))
    return got


def hq_tab() -> None:
    """Ask on Refresh; show the last answer (or its error) until the next Refresh."""
    st.markdown("The live view for disaster HQ during a drill: the shelters' state now and a forecast "
                "from it. Nothing is asked of the service until you press **Refresh**.")
    got = inputs()
    if st.button("Refresh", type="primary", key="hq:refresh"):
        try:
            add = hq.parse_add_readers(got["add"])
            with st.spinner("Asking the service (the forecast runs replications beside it)…"):
                st.session_state["hq:snapshot"] = hq.fetch(got["url"], got["credentials"], got["quake"],
                                                           got["reps"], got["seed"], add)
            st.session_state.pop("hq:error", None)
        except hq.HQError as exc:
            st.session_state["hq:error"] = str(exc)
    if err := st.session_state.get("hq:error"):
        st.error(err)
        if "hq:snapshot" in st.session_state:
            st.caption("Below: the last answer that came through.")
    snap = st.session_state.get("hq:snapshot")
    if snap is None:
        if not err:
            st.info("Give the service's URL and the HQ credentials, then press **Refresh**.")
        return
    show_state(snap)
    show_forecast(snap)
    st.download_button("Download this answer (JSON)", hq.dumps(snap), "hq_snapshot.json", key="hq:download")


def show_state(snap: hq.Snapshot) -> None:
    """The shelters now."""
    s = snap.state
    st.subheader(f"State at {hq.jst_text(s['at'])} (the service's clock)")
    rows = hq.state_rows(s)
    reg = sum(r["registered"] for r in rows)
    c1, c2, c3 = st.columns(3)
    c1.metric("Registered", f"{reg:,}")
    c2.metric("Shelters", len(rows))
    c3.metric("Last reported to HQ", f"{s['total_reported']:,}", help="the sum of each shelter's last head-count "
              "report; Refresh reads them and makes no new report")
    st.dataframe(rows, hide_index=True, width="stretch")
    st.caption("Occupancy is the desk count (people who reached a desk); people still in line are not "
               "seen by the service. Readers online count the readers not set offline. Last report None: "
               "the shelter has not reported to HQ yet.")


def show_forecast(snap: hq.Snapshot) -> None:
    """The forecast and the what-if side by side, its intervals and what it lacked."""
    st.subheader("Forecast")
    st.markdown(NOTE)
    if snap.forecast is None:
        (st.info if snap.forecast_error and snap.forecast_error.startswith("give") else st.error)(
            snap.forecast_error or "no forecast")
        return
    f = snap.forecast
    alt = (f.get("what_if") or {}).get("forecast")
    st.caption(f"From {f['hours']:.1f} h after the quake, {f['reps']} replications; times in hours after "
               "the quake, median [95 % interval].")
    cols = st.columns(2 if alt else 1)
    cols[0].metric("95 % registered at (now)", hq.band_text(f["t95_h"], "h"),
                   help=f"reached within the horizon in {f['t95_reached_share']:.0%} of replications")
    if alt:
        cols[1].metric(f"95 % registered at (what-if {f['what_if']['add_readers']})",
                       hq.band_text(alt["t95_h"], "h"),
                       help=f"reached within the horizon in {alt['t95_reached_share']:.0%} of replications")
        st.caption(f"Reading (the project's): {hq.reading(f['t95_h'], alt['t95_h'])}; only intervals that "
                   "do not overlap are read as a difference.")
    fills = hq.filling(f)
    st.markdown("**Shelters that will fill:** " + ("none in any replication" if not fills else ""))
    for line in fills:
        st.markdown(f"- {line}")
    st.dataframe(hq.forecast_rows(f), hide_index=True, width="stretch")
    with st.expander("What the forecast lacked", expanded=True):
        for note in f.get("lacking", []):
            st.markdown(f"- {note}")
