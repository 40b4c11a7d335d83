"""A health endpoint: `check_health_async`'s report, 200 when healthy, else 503."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from tasktracker.admin.health import check_health_async
from tasktracker.fastapi.dependencies import DatabaseDependency


def health_router(path: str = "/health") -> APIRouter:
    """A router with `GET {path}`: reachability, latency, version, pool usage, and whether
    the schema is at the migrations' head (`up_to_date`, reported, not required for 200:
    a rolling deploy serves while migrations run)."""
    router = APIRouter()

    @router.get(path, tags=["health"])
    async def health(adb: DatabaseDependency) -> JSONResponse:
        report = await check_health_async(adb.engine)
        return JSONResponse(report.to_dict(), status_code=200 if report.healthy else 503)

    return router
