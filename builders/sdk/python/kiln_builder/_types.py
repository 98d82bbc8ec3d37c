"""The request, response and descriptor classes, named and shaped like
O3DE's Python Asset Builder API (azlmbr.asset.builder), plus the little of
azlmbr.math (Uuid) and azlmbr.asset (AssetId) that builders use with it.

Field names are O3DE's camelCase on purpose: a builder written for O3DE
ports by changing its imports. The classes have no __slots__, because O3DE
builders commonly set attributes the API does not have (for example
response.dependenciesHandled) and that must keep working.
"""
import hashlib
import uuid as _uuid


# ---- azlmbr.math.Uuid ----


class Uuid:
    """A UUID, like azlmbr.math.Uuid.

    str() gives kiln's canonical form (36 lowercase characters, no braces);
    ToString() gives O3DE's ("{UPPERCASE}"). Equality also accepts strings in
    either form."""

    def __init__(self, value=None):
        if value is None:
            self._u = _uuid.UUID(int=0)
        elif isinstance(value, Uuid):
            self._u = value._u
        elif isinstance(value, _uuid.UUID):
            self._u = value
        elif isinstance(value, str):
            text = value.strip()
            if text.startswith("{") and text.endswith("}"):
                text = text[1:-1]
            # uuid.UUID also accepts 32 hex digits and "urn:uuid:"; only
            # the 36-character form is a UUID in kiln and O3DE.
            if len(text) != 36:
                raise ValueError("not a UUID: %r" % value)
            self._u = _uuid.UUID(text)
        else:
            raise TypeError("cannot make a Uuid of %s" % type(value).__name__)

    @staticmethod
    def CreateString(text, flags=0):
        """O3DE's Uuid.CreateString; flags is accepted and ignored."""
        del flags
        return Uuid(text)

    @staticmethod
    def CreateName(name):
        """O3DE's name-based UUID: SHA-1 of the name bytes alone (no
        namespace), with the version-5 and RFC 4122 variant bits. kiln makes
        source UUIDs the same way from the lowercased relative path."""
        if isinstance(name, str):
            name = name.encode("utf-8")
        b = bytearray(hashlib.sha1(name).digest()[:16])
        b[6] = (b[6] & 0x0F) | 0x50
        b[8] = (b[8] & 0x3F) | 0x80
        return Uuid(_uuid.UUID(bytes=bytes(b)))

    @staticmethod
    def CreateRandom():
        return Uuid(_uuid.uuid4())

    @staticmethod
    def CreateNull():
        return Uuid()

    def IsNull(self):
        return self._u.int == 0

    def ToString(self, include_braces=True, is_upper_case=True):
        text = str(self._u)
        if is_upper_case:
            text = text.upper()
        return "{%s}" % text if include_braces else text

    def __str__(self):
        return str(self._u)

    def __repr__(self):
        return "Uuid(%r)" % str(self._u)

    def __eq__(self, other):
        if isinstance(other, (Uuid, _uuid.UUID, str)):
            try:
                return self._u == Uuid(other)._u
            except ValueError:
                return False
        return NotImplemented

    def __hash__(self):
        return hash(self._u)


def Uuid_CreateString(text, flags=0):
    return Uuid.CreateString(text, flags)


def Uuid_CreateName(name):
    return Uuid.CreateName(name)


def Uuid_CreateRandom():
    return Uuid.CreateRandom()


def Uuid_CreateNull():
    return Uuid.CreateNull()


def uuid_text(value, what):
    """kiln's canonical text of a Uuid, uuid.UUID or UUID string."""
    try:
        return str(Uuid(value))
    except (TypeError, ValueError) as exc:
        raise ValueError("%s: %s" % (what, exc)) from None


# ---- azlmbr.asset.AssetId ----


class AssetId:
    """A product's id: the source's UUID and the product's sub id. str()
    gives kiln's form, "{uuid}:subid" in lowercase hex."""

    def __init__(self, guid=None, subId=0):
        self.guid = Uuid(guid)
        self.subId = subId

    def IsValid(self):
        return not self.guid.IsNull()

    def ToString(self):
        return str(self)

    def __str__(self):
        return "{%s}:%x" % (self.guid, self.subId & 0xFFFFFFFF)

    def __repr__(self):
        return "AssetId(%r, %d)" % (str(self.guid), self.subId)

    def __eq__(self, other):
        if isinstance(other, AssetId):
            return self.guid == other.guid and self.subId == other.subId
        return NotImplemented

    def __hash__(self):
        return hash((self.guid, self.subId))


# ---- descriptors and patterns ----


class AssetBuilderPattern:
    """A source pattern: a glob (Wildcard) or a regex on the relative path
    (Regex, sent to kiln with its "re:" prefix)."""

    Wildcard = 0
    Regex = 1

    def __init__(self, pattern="", type=Wildcard):  # noqa: A002 (O3DE's name)
        self.pattern = pattern
        self.type = type

    def to_kiln(self):
        if self.type == AssetBuilderPattern.Regex:
            return "re:" + self.pattern
        if self.type == AssetBuilderPattern.Wildcard:
            return self.pattern
        raise ValueError("AssetBuilderPattern.type must be Wildcard or Regex, not %r" % (self.type,))

    def __repr__(self):
        return "AssetBuilderPattern(%r, %s)" % (
            self.pattern, "Regex" if self.type == AssetBuilderPattern.Regex else "Wildcard")


class AssetBuilderDesc:
    """What describe answers: busId (the builder's UUID), name, version,
    analysisFingerprint and patterns (AssetBuilderPattern objects or plain
    kiln pattern strings). Changing version or analysisFingerprint makes
    kiln run every job of this builder again."""

    def __init__(self, name="", busId=None, version=0, patterns=None, analysisFingerprint=""):
        self.name = name
        self.busId = busId
        self.version = version
        self.patterns = list(patterns) if patterns else []
        self.analysisFingerprint = analysisFingerprint
        self.flags = 0

    def pattern_strings(self):
        out = []
        for p in self.patterns:
            if isinstance(p, AssetBuilderPattern):
                out.append(p.to_kiln())
            elif isinstance(p, str):
                out.append(p)
            else:
                raise TypeError("AssetBuilderDesc.patterns holds a %s" % type(p).__name__)
        return out

    def check(self):
        """Raises ValueError or TypeError when describe could not be
        answered from this descriptor."""
        if not isinstance(self.name, str) or not self.name:
            raise ValueError("AssetBuilderDesc.name must be a non-empty string")
        if self.busId is None:
            raise ValueError("AssetBuilderDesc.busId is not set")
        uuid_text(self.busId, "AssetBuilderDesc.busId")
        self.pattern_strings()


# The name the kiln documentation uses for it.
BuilderDescriptor = AssetBuilderDesc


# ---- create_jobs ----


class PlatformInfo:
    def __init__(self, identifier="", tags=None):
        self.identifier = identifier
        self.tags = set(tags) if tags else set()

    def HasTag(self, tag):
        return tag in self.tags

    def __repr__(self):
        return "PlatformInfo(%r, %r)" % (self.identifier, sorted(self.tags))


class JobParameterMap(dict):
    """Job parameters. O3DE keys them by unsigned integers, kiln by strings:
    keys travel as strings, and an integer key also finds its string form,
    so a builder that writes params[1] in create_jobs reads params[1] in
    process_job."""

    def __getitem__(self, key):
        if not dict.__contains__(self, key) and isinstance(key, int):
            key = str(key)
        return dict.__getitem__(self, key)

    def __contains__(self, key):
        return dict.__contains__(self, key) or (isinstance(key, int) and dict.__contains__(self, str(key)))

    def get(self, key, default=None):
        return self[key] if key in self else default


class JobDescriptor:
    """One job: job key and platform, critical, priority and parameters.

    additionalFingerprintInfo is part of the job's fingerprint, as in O3DE:
    it travels to kiln as the parameter FINGERPRINT_PARAM and comes back in
    process_job's jobDescription."""

    FINGERPRINT_PARAM = "kiln.additionalFingerprintInfo"

    def __init__(self, additionalFingerprintInfo="", jobKey="", platformIdentifier=""):
        self.jobKey = jobKey
        self.platformIdentifier = platformIdentifier or ""
        self.critical = False
        self.priority = 0
        self.jobParameters = JobParameterMap()
        self.additionalFingerprintInfo = additionalFingerprintInfo
        # O3DE fields kiln has no use for; kept so ported code can set them.
        self.checkExclusiveLock = False
        self.checkServer = False
        self.failOnError = False
        self.jobDependencyList = []

    def set_platform_identifier(self, identifier):
        self.platformIdentifier = identifier

    def get_platform_identifier(self):
        return self.platformIdentifier

    # The C++ member is a JobParameterMap; both spellings reach it.
    @property
    def jobParameterMap(self):
        return self.jobParameters

    @jobParameterMap.setter
    def jobParameterMap(self, value):
        self.jobParameters = value

    def __repr__(self):
        return "JobDescriptor(jobKey=%r, platform=%r)" % (self.jobKey, self.platformIdentifier)


# The process_job request carries "the job description".
JobDescription = JobDescriptor


class SourceFileDependency:
    """A source this source depends on, by path (absolute or relative to
    a scan folder) or by UUID."""

    Absolute = 0
    Wildcards = 1

    def __init__(self, sourceFileDependencyPath="", sourceFileDependencyUUID=None, sourceDependencyType=Absolute):
        self.sourceFileDependencyPath = sourceFileDependencyPath
        self.sourceFileDependencyUUID = Uuid(sourceFileDependencyUUID)
        self.sourceDependencyType = sourceDependencyType

    def __repr__(self):
        return "SourceFileDependency(%r, %r)" % (self.sourceFileDependencyPath, str(self.sourceFileDependencyUUID))


class CreateJobsRequest:
    """What OnCreateJobsRequest gets (as args[0])."""

    def __init__(self, sourceFile="", watchFolder="", fullPath="", builderId=None, sourceFileUUID=None,
                 enabledPlatforms=None):
        self.sourceFile = sourceFile
        self.watchFolder = watchFolder
        self.fullPath = fullPath  # kiln's addition; O3DE builders join the two above
        self.builderId = Uuid(builderId)
        self.sourceFileUUID = Uuid(sourceFileUUID)
        self.enabledPlatforms = list(enabledPlatforms) if enabledPlatforms else []

    def HasPlatform(self, identifier):
        return any(p.identifier.lower() == identifier.lower() for p in self.enabledPlatforms)

    def HasPlatformWithTag(self, tag):
        return any(p.HasTag(tag) for p in self.enabledPlatforms)


class CreateJobsResponse:
    """What OnCreateJobsRequest returns. result starts as ResultFailed, as
    in O3DE: a builder that forgets to set it reports a failure."""

    ResultFailed = 0
    ResultShuttingDown = 1
    ResultSuccess = 2

    def __init__(self):
        self.result = CreateJobsResponse.ResultFailed
        self.createJobOutputs = []
        self.sourceFileDependencyList = []


# ---- process_job ----


class ProductDependency:
    """A product this product needs at load time, by asset id (an AssetId,
    or its text "{uuid}:subid")."""

    def __init__(self, dependencyId=None, flags=0):
        self.dependencyId = dependencyId
        self.flags = flags

    def __repr__(self):
        return "ProductDependency(%r)" % (self.dependencyId,)


class ProductPathDependency:
    """A product this product needs, by path: a product path or a source
    path (meaning every product of that source)."""

    ProductFile = 0
    SourceFile = 1

    def __init__(self, dependencyPath="", dependencyType=ProductFile):
        self.dependencyPath = dependencyPath
        self.dependencyType = dependencyType

    # O3DE keeps pathDependencies in a set, so these must hash.
    def __eq__(self, other):
        if isinstance(other, ProductPathDependency):
            return (self.dependencyPath, self.dependencyType) == (other.dependencyPath, other.dependencyType)
        return NotImplemented

    def __hash__(self):
        return hash((self.dependencyPath, self.dependencyType))

    def __repr__(self):
        return "ProductPathDependency(%r, %s)" % (
            self.dependencyPath, "SourceFile" if self.dependencyType == ProductPathDependency.SourceFile
            else "ProductFile")


class JobProduct:
    """One product file the job wrote under tempDirPath.

    productFileName is relative to tempDirPath (an absolute path inside it is
    accepted and made relative, as O3DE does). dependenciesHandled starts
    False, as in O3DE: a product that does not say it declared all its
    dependencies gets a warning in the job log. intermediate is kiln's
    addition (an intermediate asset, itself a source for other builders)."""

    def __init__(self, productFileName="", productAssetType=None, productSubID=0):
        self.productFileName = productFileName
        self.productAssetType = productAssetType
        self.productSubID = productSubID
        self.productDependencies = []
        self.pathDependencies = set()
        self.dependenciesHandled = False
        self.intermediate = False

    def __repr__(self):
        return "JobProduct(%r, %r, %r)" % (self.productFileName, self.productAssetType, self.productSubID)


class ProcessJobRequest:
    """What OnProcessJobRequest gets (as args[0])."""

    def __init__(self):
        self.sourceFile = ""
        self.watchFolder = ""
        self.fullPath = ""
        self.builderGuid = Uuid()
        self.jobDescription = JobDescriptor()
        self.tempDirPath = ""
        self.platformInfo = PlatformInfo()
        self.sourceFileDependencyList = []
        self.sourceFileUUID = Uuid()
        self.jobId = 0


class ProcessJobResponse:
    """What OnProcessJobRequest returns. resultCode starts as Failed, as in
    O3DE; a job that succeeds must list at least one product."""

    Success = 0
    Failed = 1
    Crashed = 2
    Cancelled = 3
    NetworkIssue = 4

    def __init__(self):
        self.resultCode = ProcessJobResponse.Failed
        self.outputProducts = []
        self.requiresSubIdGeneration = False
        self.sourcesToReprocess = []
