"""Turns protocol maps (SPEC section 5, snake_case) into the O3DE-shaped
request objects, and response objects back into protocol maps.

Decoding checks every field it reads and raises ProtocolError naming the
field. Encoding raises TypeError or ValueError naming the field when a
builder filled a response with something that cannot be sent: that is a bug
in the builder, and the runner reports it like an exception in the callback.
"""
import os

from ._types import (AssetBuilderDesc, AssetId, CreateJobsRequest, CreateJobsResponse, JobDescriptor, JobParameterMap,
                     JobProduct, PlatformInfo, ProcessJobRequest, ProcessJobResponse, ProductDependency,
                     ProductPathDependency, SourceFileDependency, Uuid, uuid_text)
from ._wire import ProtocolError

_MISSING = object()


def _field(m, key, kind, default=_MISSING, where=""):
    v = m.get(key, _MISSING)
    if v is _MISSING or v is None:
        if default is _MISSING:
            raise ProtocolError("%s%s: missing" % (where, key))
        return default
    if kind is int and isinstance(v, bool):
        raise ProtocolError("%s%s: expected an integer, got a boolean" % (where, key))
    if not isinstance(v, kind):
        raise ProtocolError("%s%s: expected %s, got %s" % (where, key, kind.__name__, type(v).__name__))
    return v


def _strs(m, key, where=""):
    v = _field(m, key, list, [], where)
    for i, s in enumerate(v):
        if not isinstance(s, str):
            raise ProtocolError("%s%s[%d]: expected str, got %s" % (where, key, i, type(s).__name__))
    return list(v)


def _uuid(m, key, where=""):
    text = _field(m, key, str, "", where)
    if not text:
        return Uuid()
    try:
        return Uuid(text)
    except ValueError:
        raise ProtocolError("%s%s: %r is not a UUID" % (where, key, text)) from None


def _job_description(m, where):
    job = JobDescriptor()
    job.jobKey = _field(m, "job_key", str, where=where)
    job.platformIdentifier = _field(m, "platform", str, where=where)
    job.critical = _field(m, "critical", bool, False, where)
    job.priority = _field(m, "priority", int, 0, where)
    params = _field(m, "params", dict, {}, where)
    job.jobParameters = JobParameterMap()
    for k, v in params.items():
        if not isinstance(v, str):
            raise ProtocolError("%sparams.%s: expected str, got %s" % (where, k, type(v).__name__))
        if k == JobDescriptor.FINGERPRINT_PARAM:
            job.additionalFingerprintInfo = v
        else:
            job.jobParameters[k] = v
    return job


def decode_create_jobs(m):
    req = CreateJobsRequest()
    req.sourceFile = _field(m, "source_file", str)
    req.watchFolder = _field(m, "watch_folder", str, "")
    req.fullPath = _field(m, "full_path", str, "")
    if not req.fullPath and req.watchFolder:
        req.fullPath = os.path.join(req.watchFolder, req.sourceFile)
    req.sourceFileUUID = _uuid(m, "source_uuid")
    req.builderId = _uuid(m, "builder_uuid")
    req.enabledPlatforms = [PlatformInfo(p) for p in _strs(m, "platforms")]
    return req


def decode_process_job(m):
    req = ProcessJobRequest()
    req.sourceFile = _field(m, "source_file", str)
    req.watchFolder = _field(m, "watch_folder", str, "")
    req.fullPath = _field(m, "full_path", str, "")
    if not req.fullPath and req.watchFolder:
        req.fullPath = os.path.join(req.watchFolder, req.sourceFile)
    req.builderGuid = _uuid(m, "builder_uuid")
    req.jobDescription = _job_description(_field(m, "job_description", dict), "job_description.")
    req.tempDirPath = _field(m, "temp_dir", str)
    pi = _field(m, "platform_info", dict, {})
    req.platformInfo = PlatformInfo(_field(pi, "identifier", str, req.jobDescription.platformIdentifier,
                                           "platform_info."),
                                    _strs(pi, "tags", "platform_info."))
    deps = []
    for i, d in enumerate(_field(m, "source_file_dependencies", list, [])):
        # Paths today; the {"path"} / {"uuid"} maps of create_jobs replies
        # are accepted too, should the supervisor ever send those.
        if isinstance(d, str):
            deps.append(SourceFileDependency(d))
        elif isinstance(d, dict):
            where = "source_file_dependencies[%d]." % i
            deps.append(SourceFileDependency(_field(d, "path", str, "", where), _uuid(d, "uuid", where)))
        else:
            raise ProtocolError("source_file_dependencies[%d]: expected str, got %s" % (i, type(d).__name__))
    req.sourceFileDependencyList = deps
    req.sourceFileUUID = _uuid(m, "source_uuid")
    req.jobId = _field(m, "job_id", int, 0)
    return req


# ---- replies ----


def encode_describe(desc):
    if not isinstance(desc, AssetBuilderDesc):
        raise TypeError("the builder descriptor is a %s, not an AssetBuilderDesc" % type(desc).__name__)
    desc.check()
    return {
        "type": "describe",
        "name": desc.name,
        "uuid": uuid_text(desc.busId, "AssetBuilderDesc.busId"),
        "version": str(desc.version),
        "analysis_fingerprint": "" if desc.analysisFingerprint is None else str(desc.analysisFingerprint),
        "patterns": desc.pattern_strings(),
    }


def _text(v, what):
    if isinstance(v, (bytes, bytearray)):
        raise TypeError("%s is bytes, not text" % what)
    return str(v)


def _int(v, what, lo, hi):
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError("%s must be an integer, not %s" % (what, type(v).__name__))
    if not lo <= v <= hi:
        raise ValueError("%s = %d is outside %d..%d" % (what, v, lo, hi))
    return v


_CREATE_RESULTS = {
    CreateJobsResponse.ResultSuccess: "success",
    CreateJobsResponse.ResultFailed: "failed",
    CreateJobsResponse.ResultShuttingDown: "failed",
    "success": "success",
    "failed": "failed",
}

_PROCESS_RESULTS = {
    ProcessJobResponse.Success: "success",
    ProcessJobResponse.Failed: "failed",
    ProcessJobResponse.Crashed: "crashed",
    ProcessJobResponse.Cancelled: "cancelled",
    ProcessJobResponse.NetworkIssue: "network_issue",
}
for _name in list(_PROCESS_RESULTS.values()):
    _PROCESS_RESULTS[_name] = _name


def _result(table, v, what):
    if isinstance(v, bool) or not isinstance(v, (int, str)) or v not in table:
        raise ValueError("%s = %r is not a known result" % (what, v))
    return table[v]


def _job(job, i):
    what = "createJobOutputs[%d]" % i
    if not isinstance(job, JobDescriptor):
        raise TypeError("%s is a %s, not a JobDescriptor" % (what, type(job).__name__))
    if not job.platformIdentifier:
        raise ValueError("%s has no platform (call set_platform_identifier)" % what)
    params = {}
    for k, v in dict(job.jobParameters or {}).items():
        params[_text(k, "%s.jobParameters key" % what)] = _text(v, "%s.jobParameters[%r]" % (what, k))
    if job.additionalFingerprintInfo:
        params[JobDescriptor.FINGERPRINT_PARAM] = _text(job.additionalFingerprintInfo,
                                                        what + ".additionalFingerprintInfo")
    return {
        "job_key": _text(job.jobKey, what + ".jobKey"),
        "platform": _text(job.platformIdentifier, what + ".platformIdentifier"),
        "critical": bool(job.critical),
        "priority": _int(job.priority, what + ".priority", -(2 ** 63), 2 ** 63 - 1),
        "params": params,
    }


def _source_dep(d, i):
    what = "sourceFileDependencyList[%d]" % i
    if isinstance(d, str):
        return {"path": d}
    if not isinstance(d, SourceFileDependency):
        raise TypeError("%s is a %s, not a SourceFileDependency" % (what, type(d).__name__))
    if d.sourceFileDependencyPath:
        return {"path": _text(d.sourceFileDependencyPath, what + ".sourceFileDependencyPath")}
    u = Uuid(d.sourceFileDependencyUUID)
    if u.IsNull():
        raise ValueError("%s has neither a path nor a UUID" % what)
    return {"uuid": str(u)}


def encode_create_jobs(resp):
    if not isinstance(resp, CreateJobsResponse):
        raise TypeError("OnCreateJobsRequest returned a %s, not a CreateJobsResponse" % type(resp).__name__)
    return {
        "type": "create_jobs",
        "result": _result(_CREATE_RESULTS, resp.result, "CreateJobsResponse.result"),
        "jobs": [_job(j, i) for i, j in enumerate(resp.createJobOutputs or [])],
        "source_dependencies": [_source_dep(d, i) for i, d in enumerate(resp.sourceFileDependencyList or [])],
    }


def _asset_type(v):
    if v is None:
        return ""
    if isinstance(v, Uuid):
        return v.ToString()
    return _text(v, "productAssetType")


def _product_file(name, temp_dir, what):
    if isinstance(name, os.PathLike):
        name = os.fspath(name)
    name = _text(name, what + ".productFileName")
    if not name:
        raise ValueError("%s.productFileName is empty" % what)
    # O3DE accepts absolute paths inside the temp dir; kiln's protocol
    # wants them relative. Anything else goes as given, and kiln rejects
    # it as an invalid product.
    if os.path.isabs(name) and temp_dir:
        base = os.path.normpath(temp_dir)
        full = os.path.normpath(name)
        if full.startswith(base + os.sep):
            name = full[len(base) + 1:]
    return name.replace(os.sep, "/")


def _dependency(d, what):
    if isinstance(d, ProductDependency):
        d = d.dependencyId
    if isinstance(d, AssetId):
        return {"asset_id": str(d)}
    if isinstance(d, str) and d:
        return {"asset_id": d}
    raise TypeError("%s.dependencyId must be an AssetId or its text, not %r" % (what, d))


def _path_dependency(d, what):
    if not isinstance(d, ProductPathDependency):
        raise TypeError("%s is a %s, not a ProductPathDependency" % (what, type(d).__name__))
    if d.dependencyType == ProductPathDependency.SourceFile:
        kind = "source"
    elif d.dependencyType == ProductPathDependency.ProductFile:
        kind = "product"
    else:
        raise ValueError("%s.dependencyType = %r is not ProductFile or SourceFile" % (what, d.dependencyType))
    return {"path": _text(d.dependencyPath, what + ".dependencyPath"), "type": kind}


def _product(p, i, temp_dir):
    what = "outputProducts[%d]" % i
    if not isinstance(p, JobProduct):
        raise TypeError("%s is a %s, not a JobProduct" % (what, type(p).__name__))
    return {
        "file": _product_file(p.productFileName, temp_dir, what),
        "asset_type": _asset_type(p.productAssetType),
        "sub_id": _int(p.productSubID, what + ".productSubID", 0, 0xFFFFFFFF),
        "dependencies": [_dependency(d, "%s.productDependencies[%d]" % (what, k))
                         for k, d in enumerate(p.productDependencies or [])],
        "path_dependencies": [_path_dependency(d, "%s.pathDependencies[%d]" % (what, k))
                              for k, d in enumerate(p.pathDependencies or [])],
        "dependencies_handled": bool(p.dependenciesHandled),
        "intermediate": bool(getattr(p, "intermediate", False)),
    }


def encode_process_job(resp, temp_dir=""):
    if not isinstance(resp, ProcessJobResponse):
        raise TypeError("OnProcessJobRequest returned a %s, not a ProcessJobResponse" % type(resp).__name__)
    return {
        "type": "process_job",
        "result": _result(_PROCESS_RESULTS, resp.resultCode, "ProcessJobResponse.resultCode"),
        "products": [_product(p, i, temp_dir) for i, p in enumerate(resp.outputProducts or [])],
        "sources_to_reprocess": [_text(s, "sourcesToReprocess[%d]" % i)
                                 for i, s in enumerate(resp.sourcesToReprocess or [])],
    }


def failed_reply(kind):
    """The reply to a request that could not be served."""
    if kind == "process_job":
        return {"type": kind, "result": "failed", "products": [], "sources_to_reprocess": []}
    if kind == "create_jobs":
        return {"type": kind, "result": "failed", "jobs": [], "source_dependencies": []}
    return {"type": kind, "result": "failed"}


def crashed_reply():
    return {"type": "process_job", "result": "crashed", "products": [], "sources_to_reprocess": []}
