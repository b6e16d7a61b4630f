"""Answering: FAQ matching, extractive answers and their gate, LLM generation, citations, follow-ups."""
