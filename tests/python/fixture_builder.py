#!/usr/bin/python3
"""A builder written with the Python SDK (kiln_builder) for the SDK's tests
and the register_* integration scenarios. It copies each source to the
product of the same path, and misbehaves when the source's file name asks:

  *raise*     process_job: the callback raises ValueError
  *cjraise*   create_jobs: the callback raises KeyError
  *print*     process_job: print(), sys.stdout and sys.__stdout__ writes
              before working
  *child*     process_job: a child process writes on its stdout and reads
              its stdin (both must stay off the protocol)
  *warn*      process_job: kiln_builder.warning() with a context
  *none*      process_job: the callback returns None
  *badsub*    process_job: a product with sub id -1 (cannot be sent)
  *abs*       process_job: the product named by its absolute path
  *nodeps*    process_job: dependenciesHandled left False
  *fail*      process_job: resultCode Failed

argv[1], if given, names the builder (and seeds its uuid). The version is
$KILN_FIXTURE_VERSION (default "1"), the analysis fingerprint
$KILN_FIXTURE_AFP (default "a"); under kiln, change the defaults in a copy
of this file instead, since kiln describes a builder again only when its
file changes. Every request is appended to
$KILN_TEST_CALL_LOG (if set) as "<pid> <type> <source_file>", like
tests/builders/rogue.py, so tests can count calls.
"""
import os
import shutil
import subprocess
import sys

import kiln_builder
from kiln_builder import azlmbr

NAME = sys.argv[1] if len(sys.argv) > 1 else "pyfixture"
BUS_ID = azlmbr.math.Uuid_CreateName("kiln-test-builder:" + NAME)
VERSION = os.environ.get("KILN_FIXTURE_VERSION", "1")
AFP = os.environ.get("KILN_FIXTURE_AFP", "a")


def note(kind, src):
    path = os.environ.get("KILN_TEST_CALL_LOG")
    if path:
        with open(path, "a") as f:
            f.write("%d %s %s\n" % (os.getpid(), kind, src))


def on_create_jobs(args):
    request = args[0]
    note("create_jobs", request.sourceFile)
    if "cjraise" in request.sourceFile:
        raise KeyError("no such key in " + request.sourceFile)
    response = azlmbr.asset.builder.CreateJobsResponse()
    for platform in request.enabledPlatforms:
        job = azlmbr.asset.builder.JobDescriptor()
        job.jobKey = "pycopy"
        job.set_platform_identifier(platform.identifier)
        job.jobParameters[1] = request.sourceFileUUID.ToString()
        job.jobParameters["mode"] = "copy"
        response.createJobOutputs.append(job)
    response.result = azlmbr.asset.builder.CreateJobsResponse_ResultSuccess
    return response


def on_process_job(args):
    request = args[0]
    note("process_job", request.sourceFile)
    name = os.path.basename(request.sourceFile)
    response = azlmbr.asset.builder.ProcessJobResponse()
    if "raise" in name and "cjraise" not in name:
        raise ValueError("boom from " + name)
    if "none" in name:
        return None
    if "print" in name:
        print("printed by the builder")
        sys.stdout.write("written to sys.stdout\n")
        sys.__stdout__.write("written to sys.__stdout__\n")
    if "child" in name:
        out = subprocess.run(["/bin/sh", "-c", "echo child says hi; cat; echo child read eof"], check=False)
        assert out.returncode == 0
    if "warn" in name:
        kiln_builder.warning("this is a warning from " + name, file=request.sourceFile)
    # The job parameters made in create_jobs come back, integer keys too.
    if request.jobDescription.jobParameters.get(1) != request.sourceFileUUID.ToString():
        kiln_builder.error("job parameter 1 did not survive: %r" % dict(request.jobDescription.jobParameters))
    if request.sourceFileUUID != azlmbr.math.Uuid_CreateName(request.sourceFile.lower()):
        kiln_builder.error("source uuid %s is not the name uuid of %s" % (request.sourceFileUUID, request.sourceFile))
    dst = os.path.join(request.tempDirPath, request.sourceFile)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    shutil.copyfile(request.fullPath, dst)
    product = azlmbr.asset.builder.JobProduct(dst if "abs" in name else request.sourceFile, "pycopy", 0)
    product.dependenciesHandled = "nodeps" not in name
    if "badsub" in name:
        product.productSubID = -1
    response.outputProducts = [product]
    response.resultCode = (azlmbr.asset.builder.ProcessJobResponse_Failed if "fail" in name
                           else azlmbr.asset.builder.ProcessJobResponse_Success)
    return response


def on_shutdown(args):
    note("shutdown", "-")


def register():
    pattern = azlmbr.asset.builder.AssetBuilderPattern()
    pattern.pattern = "*.pyf"
    pattern.type = azlmbr.asset.builder.AssetBuilderPattern_Wildcard
    desc = azlmbr.asset.builder.AssetBuilderDesc()
    desc.name = NAME
    desc.busId = BUS_ID
    desc.version = VERSION
    desc.analysisFingerprint = AFP
    desc.patterns = [pattern, azlmbr.asset.builder.AssetBuilderPattern(r"^special/.*\.dat$",
                                                                       azlmbr.asset.builder.AssetBuilderPattern_Regex)]
    outcome = azlmbr.asset.builder.PythonAssetBuilderRequestBus(azlmbr.bus.Broadcast, "RegisterAssetBuilder", desc)
    if not outcome.IsSuccess():
        raise SystemExit("cannot register: " + outcome.GetError())
    handler = azlmbr.asset.builder.PythonBuilderNotificationBusHandler()
    handler.connect(BUS_ID)
    handler.add_callback("OnCreateJobsRequest", on_create_jobs)
    handler.add_callback("OnProcessJobRequest", on_process_job)
    handler.add_callback("OnShutdown", on_shutdown)
    return handler


handler = register()

if __name__ == "__main__":
    sys.exit(kiln_builder.run())
