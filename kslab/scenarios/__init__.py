"""Scenarios: declarative experiments (scenarios/*.yaml) run step by step against the lab."""
