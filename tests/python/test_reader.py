"""`ShadowTable` against moto's DynamoDB: live items only, metadata stripped, pagination,
filters combined, on the table and on an index."""

import uuid
from decimal import Decimal

import pytest


@pytest.fixture
def table(dynamodb):
    name = f"reader-{uuid.uuid4().hex[:8]}"
    t = dynamodb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("pk", "sk", "owner")],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{"IndexName": "by_owner", "KeySchema": [{"AttributeName": "owner", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "ALL"}}],
        BillingMode="PAY_PER_REQUEST",
    )
    meta = {"_shadow_seq": "backfill/" + "0" * 40, "_shadow_policy": "abc"}
    with t.batch_writer() as w:
        for i in range(300):
            w.put_item(Item={"pk": "P#1", "sk": f"N#{i:04}", "owner": "tok_a", "n": Decimal(i), "pad": "x" * 4000, **meta})
        w.put_item(Item={"pk": "P#1", "sk": "N#dead", "_shadow_deleted": True, "_shadow_expires_at": Decimal(1), **meta})
        w.put_item(Item={"pk": "P#1", "sk": "N#poison", "_shadow_quarantined": "too_large", **meta})
        w.put_item(Item={"pk": "P#2", "sk": "N#0000", "owner": "tok_b", "n": Decimal(7), **meta})
    return t


def test_get_skips_tombstones_and_markers_and_strips_metadata(ds, table):
    st = ds.ShadowTable(table=table)
    assert st.get({"pk": "P#1", "sk": "N#dead"}) is None
    assert st.get({"pk": "P#1", "sk": "N#poison"}) is None
    assert st.get({"pk": "P#9", "sk": "N#0000"}) is None
    item = st.get({"pk": "P#2", "sk": "N#0000"}, consistent=True)
    assert item == {"pk": "P#2", "sk": "N#0000", "owner": "tok_b", "n": Decimal(7)}


def test_query_paginates_and_never_yields_bookkeeping(ds, table):
    st = ds.ShadowTable(table.name, endpoint_url=table.meta.client.meta.endpoint_url, region_name="us-east-1")
    got = list(st.query({"pk": "P#1"}))
    # 300 items of ~4 KB are more than one 1 MB page.
    assert len(got) == 300
    assert [i["sk"] for i in got] == [f"N#{i:04}" for i in range(300)]
    assert all(not k.startswith("_shadow_") for i in got for k in i)
    assert len(list(st.query({"pk": "P#1"}, limit=5))) == 5
    assert [i["sk"] for i in st.query({"pk": "P#1", "sk": "N#0007"})] == ["N#0007"]


def test_filters_combine_with_the_live_filter(ds, table):
    from boto3.dynamodb.conditions import Attr, Key

    st = ds.ShadowTable(table=table)
    got = list(st.query(KeyConditionExpression=Key("pk").eq("P#1"), FilterExpression=Attr("n").lt(3)))
    assert [i["sk"] for i in got] == ["N#0000", "N#0001", "N#0002"]
    with pytest.raises(TypeError):
        list(st.query({"pk": "P#1"}, FilterExpression="n < :x"))
    with pytest.raises(TypeError):
        st.query()


def test_scan_and_index_query(ds, table):
    st = ds.ShadowTable(table=table)
    assert len(list(st.scan())) == 301
    assert [i["pk"] for i in st.query({"owner": "tok_b"}, index="by_owner")] == ["P#2"]
    assert len(list(st.scan(index="by_owner"))) == 301
    assert len(list(st.scan(limit=10))) == 10


def test_needs_a_name_or_a_table(ds):
    with pytest.raises(ValueError):
        ds.ShadowTable()
