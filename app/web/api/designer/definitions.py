from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask.typing import ResponseReturnValue

from app.errors import BadRequest, ProcessInvalid
from app.services.designer import deployments as definition_service
from app.services.designer import sources as definition_sources
from app.web.api.blueprint import bp
from app.web.api.schemas import array_of, link, ref, version_links
from app.web.api.support import authenticated, doc, principal
from app.web.downloads import attachment


def _files() -> dict[str, bytes]:
    uploads = request.files.getlist("files")
    if not uploads:
        raise BadRequest("send one or more files as multipart field 'files'")
    files: dict[str, bytes] = {}
    for upload in uploads:
        name = (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1]
        if not name:
            raise BadRequest("every uploaded file needs a file name")
        files[name] = upload.read()
    return files


def _problems(items: list[Any]) -> list[dict[str, Any]]:
    return [{"file": p.file, "line": p.line, "element_id": p.element_id, "message": p.message} for p in items]


def _dry_run(walked: dict[str, Any] | None) -> dict[str, Any] | None:
    if walked is None:
        return None
    return {**walked, "problems": _problems(walked["problems"]), "warnings": _problems(walked["warnings"])}


@bp.get("/process-definitions")
@authenticated
@doc("Deployed process definitions, every version", tag="process-definitions", answer=array_of("Definition"),
     links={200: version_links("$response.body#/0/key", "$response.body#/0/version")},
     responses={200: "Every version (not paged: there are few)", 403: "Designers and supervisors only"})
def list_definitions() -> ResponseReturnValue:
    return jsonify(definition_service.list_definitions(principal()))


@bp.post("/process-definitions/validate")
@authenticated
@doc("Validate BPMN, DMN and form files without deploying", tag="process-definitions", body="Upload",
     answer=ref("ValidationReport"), responses={200: "The report, errors with file, line and element",
                                                403: "Designers only"})
def validate_definitions() -> ResponseReturnValue:
    report = definition_service.validate(principal(), _files())
    return jsonify({"valid": report.valid, "errors": _problems(report.errors),
                    "warnings": _problems(report.warnings), "dry_run": _dry_run(report.dry_run)})


@bp.post("/process-definitions/dry-run")
@authenticated
@doc("Walk every path of each case type of the upload in memory (what validate does, its walk alone)",
     tag="process-definitions", body="Upload", answer=ref("DryRun"),
     responses={200: "Paths, problems (errors naming their element) and coverage", 403: "Designers only",
                422: "The files have errors before the walk (process-invalid, as for deploy)"})
def dry_run_definitions() -> ResponseReturnValue:
    report = definition_service.validate(principal(), _files())
    if report.dry_run is None:
        raise ProcessInvalid(report.errors)
    return jsonify(_dry_run(report.dry_run))


@bp.post("/process-definitions")
@authenticated
@doc("Deploy a new version", tag="process-definitions", body="Upload", answer=ref("Deployed"),
     links={code: version_links("$response.body#/definitions/0/key", "$response.body#/definitions/0/version")
            for code in (200, 201)},
     responses={201: "Deployed", 200: "Identical files were already deployed", 403: "Designers only",
                422: "Invalid files (process-invalid, each problem with file, line and element)"})
def deploy_definitions() -> ResponseReturnValue:
    deployed, is_new, report = definition_service.deploy_checked(principal(), _files())
    return jsonify({"definitions": deployed, "warnings": _problems(report.warnings),
                    "dry_run": _dry_run(report.dry_run)}), 201 if is_new else 200


@bp.get("/process-definitions/<key>/<int:version>/resources")
@authenticated
@doc("The files a version was deployed from: name, size, media type", tag="process-definitions",
     answer=array_of("DefinitionFile"), links={200: {"GetResource": link(
         "get_resource", key="$request.path.key", version="$request.path.version", name="$response.body#/0/name")}},
     responses={200: "The files, by name", 403: "Designers and supervisors only", 404: "Unknown version"})
def list_resources(key: str, version: int) -> ResponseReturnValue:
    return jsonify(definition_sources.list_files(principal(), key, version))


@bp.get("/process-definitions/<key>/<int:version>/resources/<name>")
@authenticated
@doc("One file of a version, as it was deployed", tag="process-definitions", download=True,
     media=("application/xml", "application/json", "application/octet-stream"), answer={},
     responses={200: "The file (BPMN/DMN as XML, forms as JSON)", 403: "Designers and supervisors only",
                404: "Unknown version or file"})
def get_resource(key: str, version: int, name: str) -> ResponseReturnValue:
    return attachment(definition_sources.source_file(principal(), key, version, name))


@bp.get("/process-definitions/<key>/files.zip")
@authenticated
@doc("Every file of the latest deployed version in one zip archive, to commit to the repository",
     tag="process-definitions", media=("application/zip",), download=True,
     responses={200: "The zip archive ({key}-v{version}.zip)", 403: "Designers and supervisors only",
                404: "The process has not been deployed"})
def get_latest_files_zip(key: str) -> ResponseReturnValue:
    return attachment(definition_sources.latest_archive(principal(), key))


@bp.get("/process-definitions/<key>/<int:version>/resources.zip")
@authenticated
@doc("Every file of a version in one zip archive", tag="process-definitions", media=("application/zip",),
     download=True, responses={200: "The zip archive", 403: "Designers and supervisors only",
                               404: "Unknown version"})
def get_resources_zip(key: str, version: int) -> ResponseReturnValue:
    return attachment(definition_sources.archive(principal(), key, version))
