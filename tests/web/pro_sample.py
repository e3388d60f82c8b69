"""A complete RAND-36 and its eight scales worked by hand from RAND Tables 1 and 2 (the same
survey as tests/instruments/test_rand36.py), for the web, API and browser tests."""

from __future__ import annotations

ANSWERS = {
    1: 2, 2: 3, 3: 1, 4: 2, 5: 2, 6: 3, 7: 3, 8: 3, 9: 2, 10: 3, 11: 3, 12: 3,
    13: 1, 14: 2, 15: 2, 16: 2, 17: 2, 18: 2, 19: 1, 20: 2, 21: 3, 22: 2,
    23: 3, 24: 5, 25: 6, 26: 2, 27: 4, 28: 5, 29: 4, 30: 3, 31: 3, 32: 4,
    33: 4, 34: 2, 35: 3, 36: 2,
}  # fmt: skip
RESPONSES = {f"q{k}": v for k, v in ANSWERS.items()}
BY_HAND = {
    "physical_functioning": 75.0,  # q3..q12 -> 0 50 50 100 100 100 50 100 100 100
    "role_physical": 75.0,  # q13..q16 -> 0 100 100 100
    "role_emotional": 200 / 3,  # q17..q19 -> 100 100 0
    "energy_fatigue": 50.0,  # q23 60, q27 40, q29 60, q31 40
    "emotional_wellbeing": 80.0,  # q24 80, q25 100, q26 80, q28 80, q30 60
    "social_functioning": 75.0,  # q20 75, q32 75
    "pain": 67.5,  # q21 60, q22 75
    "general_health": 70.0,  # q1 75, q33 75, q34 75, q35 50, q36 75
}
