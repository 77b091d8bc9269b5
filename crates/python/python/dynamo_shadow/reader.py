"""Reading the shadow table without forgetting the filter.

The shadow table holds three kinds of item: sanitized copies, tombstones (the source item
was deleted: ``_shadow_deleted``) and quarantine markers (the source item could not be
sanitized: ``_shadow_quarantined``). An LLM feature wants the first kind only, without the
``_shadow_*`` bookkeeping. :class:`ShadowTable` gives exactly that for ``get``, ``query``
(on the table or any shadow index) and ``scan``, paginating for you.

IAM: the role this runs under needs the template's ``LlmReaderPolicy`` (GetItem, Query,
Scan, BatchGetItem and DescribeTable on the shadow table and its indexes) and nothing on
the source table.
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping, Optional

DELETED_ATTR = "_shadow_deleted"
QUARANTINE_ATTR = "_shadow_quarantined"
META_PREFIX = "_shadow_"


def is_live(item: Mapping[str, Any]) -> bool:
    """A sanitized copy, not a tombstone or a quarantine marker."""
    return DELETED_ATTR not in item and QUARANTINE_ATTR not in item


def strip_meta(item: Mapping[str, Any]) -> dict:
    """The item without dynamo-shadow's ``_shadow_*`` attributes."""
    return {k: v for k, v in item.items() if not k.startswith(META_PREFIX)}


def _key_condition(key: Mapping[str, Any]):
    from boto3.dynamodb.conditions import Key

    cond = None
    for name, value in key.items():
        c = Key(name).eq(value)
        cond = c if cond is None else cond & c
    return cond


class ShadowTable:
    """A shadow table for LLM features: live items only, metadata stripped.

    ``name`` is the shadow table; ``table`` a ready boto3 ``Table`` resource (then ``name``
    may be omitted), else one is made with ``boto3.resource("dynamodb", **client_kwargs)``
    (``region_name=``, ``endpoint_url=`` and so on). Items are boto3 resource-style values.
    """

    def __init__(self, name: Optional[str] = None, *, table: Any = None, **client_kwargs: Any):
        if table is None:
            if not name:
                raise ValueError("ShadowTable needs the shadow table's name or a boto3 Table")
            import boto3

            table = boto3.resource("dynamodb", **client_kwargs).Table(name)
        self.table = table
        self.name = name or table.name

    def get(self, key: Mapping[str, Any], *, consistent: bool = False) -> Optional[dict]:
        """The live item with this key (in shadow form: tokenized keys tokenized), or None
        if there is none, it was deleted, or it is quarantined."""
        resp = self.table.get_item(Key=dict(key), ConsistentRead=consistent)
        item = resp.get("Item")
        if item is None or not is_live(item):
            return None
        return strip_meta(item)

    def _pages(self, op, kwargs: dict, limit: Optional[int]) -> Iterator[dict]:
        from boto3.dynamodb.conditions import Attr

        live = Attr(DELETED_ATTR).not_exists() & Attr(QUARANTINE_ATTR).not_exists()
        user = kwargs.pop("FilterExpression", None)
        if isinstance(user, str):
            raise TypeError("FilterExpression: pass a boto3.dynamodb.conditions object, so it can be combined")
        kwargs["FilterExpression"] = live if user is None else (user & live)
        seen = 0
        while True:
            resp = op(**kwargs)
            for item in resp.get("Items", []):
                # The filter runs server-side; checking again costs nothing and holds even
                # against a table that ignores FilterExpression.
                if not is_live(item):
                    continue
                yield strip_meta(item)
                seen += 1
                if limit is not None and seen >= limit:
                    return
            last = resp.get("LastEvaluatedKey")
            if not last:
                return
            kwargs["ExclusiveStartKey"] = last

    def query(
        self,
        key: Optional[Mapping[str, Any]] = None,
        *,
        index: Optional[str] = None,
        limit: Optional[int] = None,
        **kwargs: Any,
    ) -> Iterator[dict]:
        """Live items matching ``key`` (equality on the partition key and, if given, the sort
        key) or a ``KeyConditionExpression=`` of your own, on the table or on shadow index
        ``index``. ``limit`` caps the items yielded (DynamoDB's ``Limit`` counts items before
        the filter, so it is not passed through)."""
        if key is not None:
            if "KeyConditionExpression" in kwargs:
                raise TypeError("pass key= or KeyConditionExpression=, not both")
            kwargs["KeyConditionExpression"] = _key_condition(key)
        if "KeyConditionExpression" not in kwargs:
            raise TypeError("query needs key= or KeyConditionExpression=")
        if index is not None:
            kwargs["IndexName"] = index
        return self._pages(self.table.query, kwargs, limit)

    def scan(self, *, index: Optional[str] = None, limit: Optional[int] = None, **kwargs: Any) -> Iterator[dict]:
        """Every live item (of the table, or of shadow index ``index``)."""
        if index is not None:
            kwargs["IndexName"] = index
        return self._pages(self.table.scan, kwargs, limit)

    def __repr__(self) -> str:
        return f"ShadowTable({self.name!r})"
