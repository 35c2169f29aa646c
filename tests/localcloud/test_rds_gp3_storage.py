"""RDS gp3: Iops and StorageThroughput reported with AWS's baseline values."""

import pytest

PASSWORD = "not-a-secret-1"  # only ever sent to the private emulator


def _create(rds, name, **extra):
    params = dict(
        DBInstanceIdentifier=name,
        Engine="mysql",
        EngineVersion="8.0.40",
        DBInstanceClass="db.t3.micro",
        AllocatedStorage=20,
        StorageType="gp3",
        MasterUsername="admin",
        MasterUserPassword=PASSWORD,
    )
    params.update(extra)
    return rds.create_db_instance(**params)["DBInstance"]


def _described(rds, name):
    return rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]


@pytest.mark.parametrize("engine,version", [("mysql", "8.0.40"), ("mariadb", "10.11.10")])
def test_small_gp3_instance_reports_the_baseline(aws, unique, engine, version):
    rds = aws("rds")

    created = _create(rds, unique, Engine=engine, EngineVersion=version)

    for instance in (created, _described(rds, unique)):
        assert instance["StorageType"] == "gp3"
        assert (instance["Iops"], instance["StorageThroughput"]) == (3000, 125)


def test_small_gp3_refuses_iops_or_throughput(aws, unique, error_of):
    rds = aws("rds")

    code, message, status = error_of(_create, rds, unique, StorageThroughput=125)
    assert (code, status) == ("InvalidParameterCombination", 400)
    assert message == (
        "You can't specify IOPS or storage throughput for engine mysql and a storage size less than 400."
    )
    code, _ignored, _ignored = error_of(_create, rds, unique, Iops=3000)
    assert code == "InvalidParameterCombination"


def test_large_gp3_baseline_and_provisioned_values(aws, unique):
    rds = aws("rds")

    baseline = _create(rds, unique + "-a", AllocatedStorage=400)
    provisioned = _create(rds, unique + "-b", AllocatedStorage=400, Iops=15000, StorageThroughput=600)

    assert (baseline["Iops"], baseline["StorageThroughput"]) == (12000, 500)
    assert (provisioned["Iops"], provisioned["StorageThroughput"]) == (15000, 600)


def test_gp3_without_allocated_storage_gets_the_default_size(aws, unique):
    rds = aws("rds")

    created = rds.create_db_instance(
        DBInstanceIdentifier=unique,
        Engine="mysql",
        EngineVersion="8.0.40",
        DBInstanceClass="db.t3.micro",
        StorageType="gp3",
        MasterUsername="admin",
        MasterUserPassword=PASSWORD,
    )["DBInstance"]

    assert created["AllocatedStorage"] == 20
    assert (created["Iops"], created["StorageThroughput"]) == (3000, 125)


def test_modifications_follow_size_and_type(aws, unique):
    rds = aws("rds")
    _create(rds, unique, StorageType="gp2")

    rds.modify_db_instance(DBInstanceIdentifier=unique, StorageType="gp3", ApplyImmediately=True)
    assert (_described(rds, unique)["Iops"], _described(rds, unique)["StorageThroughput"]) == (3000, 125)

    # Growing past the threshold moves to the larger baseline...
    rds.modify_db_instance(DBInstanceIdentifier=unique, AllocatedStorage=500, ApplyImmediately=True)
    assert (_described(rds, unique)["Iops"], _described(rds, unique)["StorageThroughput"]) == (12000, 500)

    # ...where values may be provisioned and survive unrelated modifications.
    rds.modify_db_instance(DBInstanceIdentifier=unique, Iops=16000, ApplyImmediately=True)
    rds.modify_db_instance(DBInstanceIdentifier=unique, BackupRetentionPeriod=3, ApplyImmediately=True)
    assert (_described(rds, unique)["Iops"], _described(rds, unique)["StorageThroughput"]) == (16000, 500)

    # Back to gp2 (what AWS reports for gp2 throughput is not asserted: only the type).
    rds.modify_db_instance(DBInstanceIdentifier=unique, StorageType="gp2", ApplyImmediately=True)
    assert _described(rds, unique)["StorageType"] == "gp2"
