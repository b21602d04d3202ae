"""Per-source random streams: a source's draws depend on its seed and name only, so a design
change moves only what it touches (common random numbers)."""

from __future__ import annotations

import polars as pl

from scenarios import payments
from scenarios.runner import make_params
from scenarios.streams import Draws

SMALL = {"scale": 0.01, "city_seed": 1, "duration_s": 20.0, "offered_rate_per_s": 20.0, "payer_pool": 200}


def test_pre_drawn_uniforms_are_handed_out_in_order():
    d = Draws([0.25, 0.5])
    assert (d.random(), d.random()) == (0.25, 0.5)


def test_a_lossier_network_leaves_the_payment_requests_themselves_unchanged():
    calm, lossy = (payments.run(make_params("payments", "full", overrides=SMALL | {
        "message_loss_probability": loss}), 3).frames["requests"] for loss in (0.0, 0.2))
    drawn = ["key", "op", "channel", "amount", "electronic", "sent_s"]
    assert calm.select(drawn).equals(lossy.select(drawn))
    assert (lossy["attempts"] > 1).sum() > (calm["attempts"] > 1).sum()
    assert calm.filter(pl.col("result") == "gave_up").height == 0
