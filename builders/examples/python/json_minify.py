#!/usr/bin/python3
"""An example kiln builder written with the Python SDK in O3DE's style.

It turns *.json sources into minified JSON products (same relative path),
and declares source dependencies from "$schema" and "include" keys, so that
editing an included file processes the files that include it again.

  "$schema": "schemas/item.schema.json"           (a URL is ignored)
  "include": "common.json"  or  ["a.json", "b.json"]

Relative references are resolved against the including file's folder and
sent relative to its scan folder; references that leave the scan folder are
sent as absolute paths. A source that is not valid JSON fails its job with
the parser's message and line.

Register it in kiln.json by path:

  {"exec": "tools/json_minify.py"}

kiln puts the SDK (kiln_builder) on PYTHONPATH for the builders it starts.
Raise builderDescriptor.version when the products it makes change: kiln
then processes all its jobs again. (kiln asks a builder to describe itself
again only when its file changes, so the version belongs in the script, not
in the environment.)
"""
import json
import os
import sys

import kiln_builder
from kiln_builder import azlmbr

busId = azlmbr.math.Uuid_CreateString('{6A1C3E52-3F0B-4F7B-9C1E-2E8E4C5D7A10}', 0)
jobKeyName = 'JSON Minify'
productAssetType = azlmbr.math.Uuid_CreateString('{F7C1B0B4-5D5B-4C64-9A55-0B6B1C7E9E21}', 0)


def references(doc):
    """The files a document names in its top-level "$schema" and "include"
    keys, as written."""
    if not isinstance(doc, dict):
        return []
    refs = []
    schema = doc.get('$schema')
    if isinstance(schema, str) and schema and '://' not in schema:
        refs.append(schema)
    include = doc.get('include')
    if isinstance(include, str):
        include = [include]
    if isinstance(include, list):
        refs.extend(i for i in include if isinstance(i, str) and i)
    return refs


def dependency_path(request, ref):
    """ref resolved against the including file's folder, relative to the
    scan folder when it stays inside it."""
    base = os.path.dirname(os.path.join(request.watchFolder, request.sourceFile))
    full = os.path.normpath(os.path.join(base, ref))
    rel = os.path.relpath(full, request.watchFolder)
    if rel == os.pardir or rel.startswith(os.pardir + os.sep):
        return full
    return rel.replace(os.sep, '/')


def minify(text):
    return json.dumps(json.loads(text), separators=(',', ':'), ensure_ascii=False, allow_nan=False)


def on_create_jobs(args):
    request = args[0]  # CreateJobsRequest
    response = azlmbr.asset.builder.CreateJobsResponse()

    # A source that does not parse still gets its jobs: process_job then
    # fails them with the parser's message, where the user looks for it.
    try:
        with open(request.fullPath, encoding='utf-8') as f:
            refs = references(json.load(f))
    except (OSError, ValueError):
        refs = []
    for ref in refs:
        dep = azlmbr.asset.builder.SourceFileDependency()
        dep.sourceFileDependencyPath = dependency_path(request, ref)
        response.sourceFileDependencyList.append(dep)

    for platformInfo in request.enabledPlatforms:
        jobDesc = azlmbr.asset.builder.JobDescriptor()
        jobDesc.jobKey = jobKeyName
        jobDesc.set_platform_identifier(platformInfo.identifier)
        response.createJobOutputs.append(jobDesc)
    response.result = azlmbr.asset.builder.CreateJobsResponse_ResultSuccess
    return response


def on_process_job(args):
    request = args[0]  # ProcessJobRequest
    response = azlmbr.asset.builder.ProcessJobResponse()
    try:
        with open(request.fullPath, encoding='utf-8') as f:
            text = f.read()
        data = minify(text)
    except (OSError, UnicodeDecodeError) as exc:
        kiln_builder.error('cannot read %s: %s' % (request.fullPath, exc))
        return response
    except ValueError as exc:
        kiln_builder.error('%s is not valid JSON: %s' % (request.sourceFile, exc), file=request.sourceFile)
        return response

    out = os.path.join(request.tempDirPath, request.sourceFile)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, 'w', encoding='utf-8') as f:
        f.write(data)

    product = azlmbr.asset.builder.JobProduct(request.sourceFile, productAssetType, 0)
    product.dependenciesHandled = True
    response.outputProducts = [product]
    response.resultCode = azlmbr.asset.builder.ProcessJobResponse_Success
    print('minified %s: %d -> %d bytes' % (request.sourceFile, len(text.encode('utf-8')), len(data.encode('utf-8'))))
    return response


def register_asset_builder():
    assetPattern = azlmbr.asset.builder.AssetBuilderPattern()
    assetPattern.pattern = '*.json'
    assetPattern.type = azlmbr.asset.builder.AssetBuilderPattern_Wildcard

    builderDescriptor = azlmbr.asset.builder.AssetBuilderDesc()
    builderDescriptor.name = 'JSON Minify'
    builderDescriptor.patterns = [assetPattern]
    builderDescriptor.busId = busId
    builderDescriptor.version = 1
    builderDescriptor.analysisFingerprint = '1'

    outcome = azlmbr.asset.builder.PythonAssetBuilderRequestBus(azlmbr.bus.Broadcast, 'RegisterAssetBuilder',
                                                               builderDescriptor)
    if outcome.IsSuccess():
        handler = azlmbr.asset.builder.PythonBuilderNotificationBusHandler()
        handler.connect(busId)
        handler.add_callback('OnCreateJobsRequest', on_create_jobs)
        handler.add_callback('OnProcessJobRequest', on_process_job)
        return handler
    return None


# The handler must stay referenced while the builder runs, as in O3DE.
handler = register_asset_builder()

if __name__ == '__main__':
    sys.exit(kiln_builder.run())
