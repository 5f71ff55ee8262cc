"""Read-your-writes: `?after=<position>` waits, bounded, until the projection has reached it."""

from __future__ import annotations

from typing import Annotated, ClassVar

from fastapi import Depends, Header, Query, Request, Response

from events.errors import DomainError
from read_api.read_models import ReadModels


class ProjectionBehind(DomainError):
    code = "projection.behind"
    status = 503
    headers: ClassVar[dict[str, str] | None] = {"Retry-After": "1"}


class PositionUnknown(DomainError):
    code = "query.position_unknown"
    status = 422


def read_models(request: Request) -> ReadModels:
    return request.app.state.read_models


ReadModelsDep = Annotated[ReadModels, Depends(read_models)]


def consistent_after(*projections: str):  # noqa: ANN201 - a dependency factory
    """A dependency that waits for `after` and sets X-Projection-Position on the response."""

    def wait(
        models: ReadModelsDep, response: Response,
        after: Annotated[int | None, Query(ge=0, le=2**62, description="A position a command returned")] = None,
        consistent_after: Annotated[int | None, Header(alias="X-Consistent-After", ge=0, le=2**62)] = None,
    ) -> int:
        wanted = max(after or 0, consistent_after or 0)
        if wanted:
            head = models.head() or 0
            if wanted > head:
                raise PositionUnknown(f"position {wanted} is beyond the event store's last position {head}")
        reached = models.positions.wait_for(list(projections), wanted, models.consistency_timeout if wanted else 0)
        response.headers["X-Projection-Position"] = str(reached)
        if reached < wanted:
            raise ProjectionBehind(f"the read model is at position {reached}, not yet {wanted}; retry shortly")
        return reached

    return wait


TicketsConsistent = Annotated[int, Depends(consistent_after("tickets"))]
AuditConsistent = Annotated[int, Depends(consistent_after("audit"))]
