"""dynamo-shadow's sanitizer for Python, and a reader for the shadow table.

The same engine, rules and policy file as the Lambda and the CLI (the Rust core crate,
compiled into this package)::

    import dynamo_shadow

    s = dynamo_shadow.Sanitizer.from_policy_file("policy.toml")
    clean = s.sanitize_item(item)          # DynamoDB JSON or boto3 resource-style values
    prompt = s.sanitize_text(user_text)    # any text on its way to (or back from) an LLM
    s.explain(item)                        # [{"path", "rule", "action"}], never a value

    tickets = dynamo_shadow.ShadowTable("app-shadow")   # skips tombstones and markers
    tickets.query(index="by_customer", key={"customer_id": s.shadow_value("customer_id", cid)})

Exceptions (:class:`SanitizeError` and its subclasses :class:`PolicyError` and
:class:`ItemError`) never carry a value from the data: paths, types and rule ids only.
"""

from __future__ import annotations

import json
import os
from base64 import b64encode
from typing import Any, Iterable, Mapping, Optional, Sequence, Union

from ._native import ItemError, NativeSanitizer, PolicyError, SanitizeError, __version__

__all__ = [
    "Sanitizer",
    "ShadowTable",
    "SanitizeError",
    "PolicyError",
    "ItemError",
    "is_dynamodb_json",
    "__version__",
]

_TAGS = frozenset(("S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"))


def is_dynamodb_json(item: Mapping[str, Any]) -> bool:
    """Whether ``item`` reads as DynamoDB JSON (``{"name": {"S": "..."}}``) rather than
    resource-style values. An empty item, or a resource-style item whose every attribute is
    a one-key map named like a type tag, is ambiguous: pass ``format=`` to say which."""
    if not item:
        return False
    return all(isinstance(v, dict) and len(v) == 1 and next(iter(v)) in _TAGS for v in item.values())


def _wire(o: Any) -> Any:
    # boto3's low-level client gives B and BS as bytes; DynamoDB JSON spells them base64.
    if isinstance(o, (bytes, bytearray)):
        return b64encode(bytes(o)).decode("ascii")
    raise ItemError(f"a value of type {type(o).__name__} is not DynamoDB JSON")


class Sanitizer:
    """A compiled policy: build once (it compiles every rule), then call from any thread.

    ``keys`` are the table's key attributes: kept verbatim (scanned, and refused if they
    hold a finding) or tokenized where the policy says so. They default to the policy's
    ``keys = [...]``.
    """

    __slots__ = ("_native",)

    def __init__(self, native: NativeSanitizer):
        self._native = native

    @classmethod
    def default(cls) -> "Sanitizer":
        """The built-in default policy: deny mode, every detector, nothing tokenized."""
        return cls(NativeSanitizer.default_policy())

    @classmethod
    def from_policy_file(
        cls,
        path: Union[str, "os.PathLike[str]"],
        *,
        table: Optional[str] = None,
        token_key: Union[str, bytes, None] = None,
    ) -> "Sanitizer":
        """The policy file the function runs with. ``table`` picks a ``[tables.NAME]``
        section; ``token_key`` is the HMAC key if the policy tokenizes (else the environment
        variable the policy names, ``SHADOW_TOKEN_KEY`` by default)."""
        return cls(NativeSanitizer.from_policy_file(os.fspath(path), table, token_key))

    @classmethod
    def from_policy_str(
        cls,
        text: str,
        *,
        source: str = "<policy>",
        table: Optional[str] = None,
        token_key: Union[str, bytes, None] = None,
    ) -> "Sanitizer":
        return cls(NativeSanitizer.from_policy_str(text, source, table, token_key))

    @property
    def fingerprint(self) -> str:
        """The policy fingerprint written on every shadow item (``_shadow_policy``)."""
        return self._native.fingerprint

    @property
    def keys(self) -> list:
        return self._native.keys

    def _keys(self, keys: Optional[Sequence[str]]) -> list:
        return list(self._native.keys if keys is None else keys)

    def _json(self, format: str, item: Mapping[str, Any]) -> bool:
        if format == "auto":
            return is_dynamodb_json(item)
        if format in ("dynamodb", "python"):
            return format == "dynamodb"
        raise ValueError("format is 'auto', 'dynamodb' or 'python'")

    def sanitize_item(
        self, item: Mapping[str, Any], *, keys: Optional[Sequence[str]] = None, format: str = "auto"
    ) -> dict:
        """The item as the shadow table would hold it (without the ``_shadow_*`` metadata).

        DynamoDB JSON in, DynamoDB JSON out (B as base64 text, exactly what
        ``dynamo-shadow sanitize`` prints); resource-style in (``str``, ``Decimal``, ``int``,
        ``bool``, ``None``, ``bytes``, ``Binary``, ``set``, ``list``, ``dict``), resource-style
        out (numbers as ``Decimal``, binary as ``bytes``). Raises :class:`SanitizeError`
        when the item cannot be sanitized with certainty (nothing half-redacted comes back).
        """
        if not isinstance(item, dict):
            item = dict(item)
        if self._json(format, item):
            text = json.dumps(item, default=_wire)
            return json.loads(self._native.sanitize_json(text, self._keys(keys)))
        return self._native.sanitize_python(item, self._keys(keys))

    def sanitize_text(self, text: str) -> str:
        """Free text (a prompt, a request body, a model's answer): every detector."""
        return self._native.sanitize_text(text)

    def explain(
        self,
        item_or_text: Union[Mapping[str, Any], str],
        *,
        keys: Optional[Sequence[str]] = None,
        format: str = "auto",
    ) -> list:
        """What sanitizing would do, never a value: for an item, one
        ``{"path", "rule", "action"}`` per decision (map keys that look like data are shown
        as ``<key>``); for text, one ``{"rule", "count"}`` per rule that fired."""
        if isinstance(item_or_text, str):
            return [{"rule": r, "count": n} for r, n in self._native.explain_text(item_or_text)]
        item = item_or_text if isinstance(item_or_text, dict) else dict(item_or_text)
        if self._json(format, item):
            rows = self._native.explain_json(json.dumps(item, default=_wire), self._keys(keys))
        else:
            rows = self._native.explain_python(item, self._keys(keys))
        return [{"path": p, "rule": r, "action": a} for p, r, a in rows]

    def shadow_value(self, name: str, value: Any) -> Any:
        """The value top-level attribute ``name`` holding ``value`` gets in the shadow table:
        a tokenized key or index key, to Query the shadow table by it. Raises
        :class:`SanitizeError` if the policy drops or rewrites that attribute (then it is
        no use as a lookup)."""
        rewritten = [a for _, _, a in self._native.explain_python({name: value}, []) if a not in ("tokenize", "keep", "allow")]
        out = self._native.sanitize_python({name: value}, [])
        if rewritten or name not in out:
            raise SanitizeError(
                f"the policy {'drops' if name not in out else rewritten[0] + 's'} attribute `{name}` "
                "(or a value in it): it cannot be looked up in the shadow table"
            )
        return out[name]

    def __repr__(self) -> str:
        return f"Sanitizer(fingerprint={self.fingerprint!r})"


from .reader import ShadowTable  # noqa: E402  (needs nothing above; kept last for the docs)
