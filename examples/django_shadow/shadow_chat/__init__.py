"""A Django app that builds LLM prompts from the shadow table only (see views.py)."""
