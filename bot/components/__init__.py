"""Custom Rasa 3.6 graph components (.venv-rasa, Python 3.10): normalising tokenizer, m3e featurizer."""
