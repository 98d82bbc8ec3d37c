"""kiln_builder: write kiln builders in Python with O3DE's Python Asset
Builder API.

The names and shapes follow azlmbr.asset.builder (AssetBuilderDesc,
CreateJobsRequest/Response, JobDescriptor, ProcessJobRequest/Response,
JobProduct, ProductDependency, ProductPathDependency, SourceFileDependency,
PlatformInfo, PythonAssetBuilderRequestBus,
PythonBuilderNotificationBusHandler), so a builder written for O3DE ports by
changing its imports:

    from kiln_builder import azlmbr        # instead of import azlmbr.*

and ending the script with

    sys.exit(kiln_builder.run())

run() speaks kiln's builder protocol (SPEC section 5) on stdin/stdout: it
answers describe from the registered descriptor, hands create_jobs and
process_job requests to the callbacks, and sends their responses. An
exception in a callback becomes a "crashed" job whose log holds the
traceback; print() goes to stderr, which kiln also keeps in the job log.
warning() and error() log lines that make the job completed_warning or
completed_error.

Needs only Python 3 and msgpack (Debian: python3-msgpack).
"""
from ._types import (AssetBuilderDesc, AssetBuilderPattern, AssetId, BuilderDescriptor, CreateJobsRequest,
                     CreateJobsResponse, JobDescription, JobDescriptor, JobParameterMap, JobProduct, PlatformInfo,
                     ProcessJobRequest, ProcessJobResponse, ProductDependency, ProductPathDependency,
                     SourceFileDependency, Uuid, Uuid_CreateName, Uuid_CreateNull, Uuid_CreateRandom,
                     Uuid_CreateString)
from ._runner import (Broadcast, Event, Outcome, PythonAssetBuilderRequestBus, PythonBuilderNotificationBusHandler,
                      error, info, log, register, run, warning)
from ._wire import MAX_FRAME, ProtocolError

# azlmbr exposes class enums as module attributes named Class_Value.
AssetBuilderPattern_Wildcard = AssetBuilderPattern.Wildcard
AssetBuilderPattern_Regex = AssetBuilderPattern.Regex
CreateJobsResponse_ResultFailed = CreateJobsResponse.ResultFailed
CreateJobsResponse_ResultShuttingDown = CreateJobsResponse.ResultShuttingDown
CreateJobsResponse_ResultSuccess = CreateJobsResponse.ResultSuccess
ProcessJobResponse_Success = ProcessJobResponse.Success
ProcessJobResponse_Failed = ProcessJobResponse.Failed
ProcessJobResponse_Crashed = ProcessJobResponse.Crashed
ProcessJobResponse_Cancelled = ProcessJobResponse.Cancelled
ProcessJobResponse_NetworkIssue = ProcessJobResponse.NetworkIssue
ProductPathDependency_ProductFile = ProductPathDependency.ProductFile
ProductPathDependency_SourceFile = ProductPathDependency.SourceFile
SourceFileDependency_Absolute = SourceFileDependency.Absolute
SourceFileDependency_Wildcards = SourceFileDependency.Wildcards

__all__ = [
    "AssetBuilderDesc", "AssetBuilderPattern", "AssetId", "BuilderDescriptor", "CreateJobsRequest",
    "CreateJobsResponse", "JobDescription", "JobDescriptor", "JobParameterMap", "JobProduct", "PlatformInfo",
    "ProcessJobRequest", "ProcessJobResponse", "ProductDependency", "ProductPathDependency",
    "SourceFileDependency", "Uuid", "Uuid_CreateName", "Uuid_CreateNull", "Uuid_CreateRandom", "Uuid_CreateString",
    "Broadcast", "Event", "Outcome", "PythonAssetBuilderRequestBus", "PythonBuilderNotificationBusHandler",
    "error", "info", "log", "register", "run", "warning", "MAX_FRAME", "ProtocolError",
    "AssetBuilderPattern_Wildcard", "AssetBuilderPattern_Regex", "CreateJobsResponse_ResultFailed",
    "CreateJobsResponse_ResultShuttingDown", "CreateJobsResponse_ResultSuccess", "ProcessJobResponse_Success",
    "ProcessJobResponse_Failed", "ProcessJobResponse_Crashed", "ProcessJobResponse_Cancelled",
    "ProcessJobResponse_NetworkIssue", "ProductPathDependency_ProductFile", "ProductPathDependency_SourceFile",
    "SourceFileDependency_Absolute", "SourceFileDependency_Wildcards",
]
