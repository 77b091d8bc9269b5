"""One LLM feature, done the dynamo-shadow way.

- The prompt is built from the shadow table only (ShadowTable: no tombstones, no quarantine
  markers, no `_shadow_*` metadata), so what the model sees was sanitized by the function.
- The customer is looked up through the shadow index by its token: the same policy file
  and key give the token the function wrote.
- Text from elsewhere (the user's question) and the model's answer go through the same
  rules before they reach the model or the browser.
"""

from functools import lru_cache

import dynamo_shadow
from django.conf import settings
from django.http import JsonResponse
from django.utils.module_loading import import_string

MAX_TICKETS = 20


@lru_cache(maxsize=1)
def sanitizer() -> dynamo_shadow.Sanitizer:
    # Compiles every rule once per process.
    if settings.SHADOW_POLICY_FILE:
        return dynamo_shadow.Sanitizer.from_policy_file(settings.SHADOW_POLICY_FILE)
    return dynamo_shadow.Sanitizer.default()


@lru_cache(maxsize=1)
def shadow_table() -> dynamo_shadow.ShadowTable:
    return dynamo_shadow.ShadowTable(settings.SHADOW_TABLE_NAME, **settings.SHADOW_BOTO3)


def build_prompt(question: str, tickets: list) -> str:
    lines = [f"- [{t.get('status', '?')}] {t.get('created_at', '')}: {t.get('body', '')}" for t in tickets]
    return (
        "You are a support assistant. Answer from these tickets only.\n"
        f"Tickets:\n{chr(10).join(lines) or '(none)'}\n\nQuestion: {question}"
    )


def customer_summary(request, customer_id: str):
    s = sanitizer()
    try:
        token = s.shadow_value("customer_id", customer_id)
    except dynamo_shadow.SanitizeError:
        return JsonResponse({"error": "this customer id cannot be looked up"}, status=400)
    tickets = list(shadow_table().query(index="by_customer", key={"customer_id": token}, limit=MAX_TICKETS))
    question = s.sanitize_text(request.GET.get("q", "Summarize this customer's open tickets."))
    answer = import_string(settings.LLM_CLIENT)(build_prompt(question, tickets))
    # The model can repeat or invent secrets: its answer is scanned before anyone sees it.
    return JsonResponse({"answer": s.sanitize_text(answer), "tickets": len(tickets)})
