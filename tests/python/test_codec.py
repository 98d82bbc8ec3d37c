"""Requests decoded into O3DE-shaped objects, responses encoded into the
protocol's maps, and the O3DE names themselves."""
import pytest

import helpers
import kiln_builder as kb
from kiln_builder import azlmbr
from kiln_builder._codec import (decode_create_jobs, decode_process_job, encode_create_jobs, encode_describe,
                                 encode_process_job)
from kiln_builder._wire import ProtocolError


# ---- the O3DE names ----

def test_o3de_names_and_enum_values():
    b = azlmbr.asset.builder
    assert b is kb
    # Values as in O3DE's AssetBuilderSDK enums.
    assert (b.ProcessJobResponse_Success, b.ProcessJobResponse_Failed, b.ProcessJobResponse_Crashed,
            b.ProcessJobResponse_Cancelled, b.ProcessJobResponse_NetworkIssue) == (0, 1, 2, 3, 4)
    assert kb.ProcessJobResponse.Crashed == b.ProcessJobResponse_Crashed
    assert (b.CreateJobsResponse_ResultFailed, b.CreateJobsResponse_ResultShuttingDown,
            b.CreateJobsResponse_ResultSuccess) == (0, 1, 2)
    assert kb.CreateJobsResponse.ResultSuccess == 2
    assert (b.AssetBuilderPattern_Wildcard, b.AssetBuilderPattern_Regex) == (0, 1)
    assert (kb.ProductPathDependency.ProductFile, kb.ProductPathDependency.SourceFile) == (0, 1)
    assert b.BuilderDescriptor is b.AssetBuilderDesc
    assert b.JobDescription is b.JobDescriptor
    assert azlmbr.bus.Broadcast == kb.Broadcast
    assert azlmbr.asset.AssetId is kb.AssetId


def test_defaults_follow_o3de():
    assert kb.ProcessJobResponse().resultCode == kb.ProcessJobResponse.Failed
    assert kb.ProcessJobResponse().outputProducts == []
    assert kb.CreateJobsResponse().result == kb.CreateJobsResponse.ResultFailed
    p = kb.JobProduct("a.bin", "t", 3)
    assert (p.productFileName, p.productAssetType, p.productSubID) == ("a.bin", "t", 3)
    assert p.dependenciesHandled is False
    assert p.productDependencies == [] and p.pathDependencies == set()
    j = kb.JobDescriptor()
    j.set_platform_identifier("pc")
    assert j.get_platform_identifier() == "pc" and j.platformIdentifier == "pc"
    assert j.jobParameterMap is j.jobParameters
    # Ported builders set attributes the API does not have.
    r = kb.ProcessJobResponse()
    r.dependenciesHandled = True


def test_uuid_forms():
    u = azlmbr.math.Uuid_CreateString("{CF5C74C1-9ED4-5851-95B1-0B15090DBEC7}", 0)
    assert str(u) == "cf5c74c1-9ed4-5851-95b1-0b15090dbec7"
    assert u.ToString() == "{CF5C74C1-9ED4-5851-95B1-0B15090DBEC7}"
    assert u == "cf5c74c1-9ed4-5851-95b1-0b15090dbec7" and u == "{cf5c74c1-9ed4-5851-95b1-0b15090dbec7}"
    assert u != "not a uuid"
    assert kb.Uuid_CreateNull().IsNull() and not u.IsNull()
    assert len({u, kb.Uuid(str(u))}) == 1
    with pytest.raises(ValueError):
        kb.Uuid("cf5c74c19ed4585195b10b15090dbec7")  # kiln and O3DE want the dashed form


def test_name_uuid_matches_kiln_source_uuids():
    # The same vectors as tests/unit/uuid_test.c: kiln's source UUIDs are
    # O3DE name UUIDs of the lowercased path.
    assert str(kb.Uuid_CreateName("")) == "da39a3ee-5e6b-5b0d-b255-bfef95601890"
    assert str(kb.Uuid_CreateName("textures/hero.png")) == "99f269ee-eb92-5377-8166-bb15342abf88"
    assert str(kb.Uuid_CreateName("caf\u00e9/x.png")) == "43b912cf-3d37-5d6b-9767-22c2635af1d7"


def test_asset_id_text():
    a = kb.AssetId(kb.Uuid("99F269EE-EB92-5377-8166-BB15342ABF88"), 0xBEEF)
    assert str(a) == "{99f269ee-eb92-5377-8166-bb15342abf88}:beef"
    assert a.IsValid() and not kb.AssetId().IsValid()


# ---- requests ----

def test_decode_create_jobs():
    m = helpers.create_jobs_req("Sub/A.pyf", "/w", ("pc", "linux"), "cf5c74c1-9ed4-5851-95b1-0b15090dbec7")
    r = decode_create_jobs(m)
    assert isinstance(r, kb.CreateJobsRequest)
    assert (r.sourceFile, r.watchFolder, r.fullPath) == ("Sub/A.pyf", "/w", "/w/Sub/A.pyf")
    assert [p.identifier for p in r.enabledPlatforms] == ["pc", "linux"]
    assert r.HasPlatform("LINUX") and not r.HasPlatform("mac")
    assert r.sourceFileUUID == kb.Uuid_CreateName("sub/a.pyf")
    assert r.builderId == "{CF5C74C1-9ED4-5851-95B1-0B15090DBEC7}"


def test_decode_process_job():
    m = helpers.process_job_req("a.pyf", "/w", "/tmp/t", "linux",
                                {"1": "one", "mode": "fast", kb.JobDescriptor.FINGERPRINT_PARAM: "fp7"}, 42)
    m["source_file_dependencies"] = ["/w/b.json", {"uuid": "99f269ee-eb92-5377-8166-bb15342abf88"}]
    r = decode_process_job(m)
    assert (r.sourceFile, r.fullPath, r.tempDirPath, r.jobId) == ("a.pyf", "/w/a.pyf", "/tmp/t", 42)
    jd = r.jobDescription
    assert (jd.jobKey, jd.platformIdentifier, jd.critical, jd.priority) == ("pycopy", "linux", False, 0)
    assert jd.jobParameters[1] == "one" and jd.jobParameters["mode"] == "fast" and 1 in jd.jobParameters
    assert jd.jobParameters.get(2, "none") == "none"
    # The fingerprint parameter comes back as additionalFingerprintInfo only.
    assert jd.additionalFingerprintInfo == "fp7"
    assert kb.JobDescriptor.FINGERPRINT_PARAM not in jd.jobParameters
    assert r.platformInfo.identifier == "linux" and r.platformInfo.HasTag("tools")
    deps = r.sourceFileDependencyList
    assert deps[0].sourceFileDependencyPath == "/w/b.json"
    assert deps[1].sourceFileDependencyUUID == "99f269ee-eb92-5377-8166-bb15342abf88"


@pytest.mark.parametrize("key, value, why", [
    ("source_file", None, "source_file: missing"),
    ("source_file", 3, "source_file: expected str"),
    ("temp_dir", None, "temp_dir: missing"),
    ("job_id", "7", "job_id: expected int"),
    ("job_id", True, "job_id: expected an integer, got a boolean"),
    ("source_uuid", "xyz", "not a UUID"),
    ("job_description", [], "job_description: expected dict"),
])
def test_bad_process_job_requests_name_the_field(key, value, why):
    m = helpers.process_job_req("a.pyf", "/w", "/tmp/t")
    if value is None:
        del m[key]
    else:
        m[key] = value
    with pytest.raises(ProtocolError, match=why):
        decode_process_job(m)


def test_bad_job_params_are_refused():
    m = helpers.process_job_req("a.pyf", "/w", "/tmp/t", params={"k": 1})
    with pytest.raises(ProtocolError, match="params.k: expected str"):
        decode_process_job(m)


# ---- replies ----

def test_encode_describe():
    d = kb.AssetBuilderDesc()
    d.name = "b"
    d.busId = azlmbr.math.Uuid_CreateString("{CF5C74C1-9ED4-5851-95B1-0B15090DBEC7}")
    d.version = 3
    d.patterns = [kb.AssetBuilderPattern("*.a"), kb.AssetBuilderPattern(r"^x/.*\.b$", kb.AssetBuilderPattern_Regex),
                  "*.c"]
    m = encode_describe(d)
    assert m == {"type": "describe", "name": "b", "uuid": "cf5c74c1-9ed4-5851-95b1-0b15090dbec7", "version": "3",
                 "analysis_fingerprint": "", "patterns": ["*.a", r"re:^x/.*\.b$", "*.c"]}
    d.busId = None
    with pytest.raises(ValueError, match="busId"):
        encode_describe(d)


def test_encode_create_jobs():
    r = kb.CreateJobsResponse()
    j = kb.JobDescriptor("fp", "key", "pc")
    j.critical = True
    j.priority = 5
    j.jobParameters[7] = 8
    r.createJobOutputs = [j]
    r.sourceFileDependencyList = [kb.SourceFileDependency("inc/a.json"),
                                  kb.SourceFileDependency("", kb.Uuid_CreateName("x")), "plain/path"]
    m = encode_create_jobs(r)
    assert m["result"] == "failed"  # never set: O3DE's default
    r.result = kb.CreateJobsResponse_ResultSuccess
    m = encode_create_jobs(r)
    assert m == {"type": "create_jobs", "result": "success",
                 "jobs": [{"job_key": "key", "platform": "pc", "critical": True, "priority": 5,
                           "params": {"7": "8", kb.JobDescriptor.FINGERPRINT_PARAM: "fp"}}],
                 "source_dependencies": [{"path": "inc/a.json"}, {"uuid": str(kb.Uuid_CreateName("x"))},
                                         {"path": "plain/path"}]}
    r.result = kb.CreateJobsResponse_ResultShuttingDown
    assert encode_create_jobs(r)["result"] == "failed"


def test_create_jobs_reply_errors_name_the_field():
    r = kb.CreateJobsResponse()
    r.result = kb.CreateJobsResponse_ResultSuccess
    r.createJobOutputs = [kb.JobDescriptor(jobKey="k")]
    with pytest.raises(ValueError, match=r"createJobOutputs\[0\] has no platform"):
        encode_create_jobs(r)
    r.createJobOutputs = ["job"]
    with pytest.raises(TypeError, match="not a JobDescriptor"):
        encode_create_jobs(r)
    r.createJobOutputs = []
    r.sourceFileDependencyList = [kb.SourceFileDependency()]
    with pytest.raises(ValueError, match="neither a path nor a UUID"):
        encode_create_jobs(r)
    with pytest.raises(TypeError, match="not a CreateJobsResponse"):
        encode_create_jobs(kb.ProcessJobResponse())


def test_encode_process_job():
    r = kb.ProcessJobResponse()
    p = kb.JobProduct("/tmp/job7/sub/a.bin", azlmbr.math.Uuid_CreateString("{9274AD17-3212-4651-9F3B-7DCCB080E467}"),
                      0xFFFFFFFF)
    p.productDependencies = [kb.ProductDependency(kb.AssetId(kb.Uuid_CreateName("x"), 2)),
                             kb.ProductDependency("{99f269ee-eb92-5377-8166-bb15342abf88}:0")]
    p.pathDependencies = {kb.ProductPathDependency("textures/a.dds", kb.ProductPathDependency_ProductFile)}
    q = kb.JobProduct("b.bin")
    q.dependenciesHandled = True
    q.intermediate = True
    q.pathDependencies.add(kb.ProductPathDependency("src/b.png", kb.ProductPathDependency.SourceFile))
    r.outputProducts = [p, q]
    r.sourcesToReprocess = ["/w/other.pyf"]
    r.resultCode = kb.ProcessJobResponse_Success
    m = encode_process_job(r, "/tmp/job7/")
    assert m["result"] == "success" and m["sources_to_reprocess"] == ["/w/other.pyf"]
    a, b = m["products"]
    assert a == {"file": "sub/a.bin", "asset_type": "{9274AD17-3212-4651-9F3B-7DCCB080E467}",
                 "sub_id": 0xFFFFFFFF,
                 "dependencies": [{"asset_id": "{%s}:2" % kb.Uuid_CreateName("x")},
                                  {"asset_id": "{99f269ee-eb92-5377-8166-bb15342abf88}:0"}],
                 "path_dependencies": [{"path": "textures/a.dds", "type": "product"}],
                 "dependencies_handled": False, "intermediate": False}
    assert b["file"] == "b.bin" and b["asset_type"] == "" and b["sub_id"] == 0
    assert b["path_dependencies"] == [{"path": "src/b.png", "type": "source"}]
    assert b["dependencies_handled"] is True and b["intermediate"] is True


@pytest.mark.parametrize("code, name", [(0, "success"), (1, "failed"), (2, "crashed"), (3, "cancelled"),
                                        (4, "network_issue"), ("crashed", "crashed")])
def test_process_job_results(code, name):
    r = kb.ProcessJobResponse()
    r.resultCode = code
    assert encode_process_job(r)["result"] == name


def test_absolute_paths_outside_the_temp_dir_go_as_given():
    r = kb.ProcessJobResponse()
    r.outputProducts = [kb.JobProduct("/etc/passwd"), kb.JobProduct("/tmp/job70/x")]
    files = [p["file"] for p in encode_process_job(r, "/tmp/job7")["products"]]
    assert files == ["/etc/passwd", "/tmp/job70/x"]  # kiln rejects them (invalid_product)


@pytest.mark.parametrize("attr, value, exc, why", [
    ("productSubID", -1, ValueError, r"outputProducts\[0\].productSubID = -1"),
    ("productSubID", 2 ** 32, ValueError, "productSubID"),
    ("productSubID", "0", TypeError, "productSubID must be an integer"),
    ("productFileName", "", ValueError, "productFileName is empty"),
    ("productFileName", b"a", TypeError, "bytes"),
    ("productDependencies", [kb.ProductDependency()], TypeError, "dependencyId"),
    ("pathDependencies", [kb.ProductPathDependency("a", 9)], ValueError, "dependencyType"),
])
def test_process_job_reply_errors_name_the_field(attr, value, exc, why):
    r = kb.ProcessJobResponse()
    p = kb.JobProduct("a.bin")
    setattr(p, attr, value)
    r.outputProducts = [p]
    with pytest.raises(exc, match=why):
        encode_process_job(r, "/t")


def test_unknown_result_codes_are_refused():
    r = kb.ProcessJobResponse()
    r.resultCode = 9
    with pytest.raises(ValueError, match="resultCode"):
        encode_process_job(r)
    r.resultCode = True
    with pytest.raises(ValueError, match="resultCode"):
        encode_process_job(r)
