"""Rasa-side code: the launcher and the custom input channel (imported by Rasa, Python 3.10)."""
