"""Adapters to real devices: PC/SC card readers (pyscard), vpcd virtual cards, the reader client."""
