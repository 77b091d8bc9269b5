"""Stand-ins for an LLM client: anything with `complete(prompt) -> str` semantics."""


def echo(prompt: str) -> str:
    return "You asked:\n" + prompt
