"""GET /tickets (search), GET /tickets/{id} (the summary), and saved views."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from psycopg.sql import SQL
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from events.errors import DomainError, NotFound
from identity import policy
from identity.deps import CurrentActor
from projections import ticket_state
from read_api.consistency import ReadModelsDep, TicketsConsistent
from read_api.read_models import ReadModels
from read_api.search_filters import NO_NUL, SearchFilters, SearchPage
from read_api.ticket_search import search
from read_api.ticket_views import ticket_state as visible_state

router = APIRouter(prefix="/api/v1", tags=["search"])


class TicketsPage(BaseModel):
    data: list[dict[str, Any]]
    next_cursor: str | None
    facets: dict[str, dict[str, int]]
    facets_complete: bool = Field(description="false when there were so many matches that facets count a sample")


class SaveView(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=NO_NUL)]
    filters: SearchFilters


class SavedView(SaveView):
    id: UUID


def _saved_filters(models: ReadModels, view_id: str, owner: str) -> dict[str, Any]:
    try:
        key = UUID(view_id)
    except ValueError:
        raise NotFound("saved view not found") from None
    with models.cursor() as cur:
        cur.execute(SQL("SELECT filters FROM {} WHERE id = %s AND owner_id = %s").format(models.table("saved_views")),
                    (key, owner))
        row = cur.fetchone()
    if row is None:
        raise NotFound("saved view not found")
    return row["filters"]


@router.get("/tickets", response_model=TicketsPage)
def search_tickets(page: Annotated[SearchPage, Query()], models: ReadModelsDep, actor: CurrentActor,
                   _: TicketsConsistent) -> dict[str, Any]:
    """Search tickets: keyword, filters, sort, cursor pages and facet counts."""
    if page.view:
        given = page.model_dump(include=page.model_fields_set)
        page = SearchPage.model_validate({**_saved_filters(models, page.view, actor.id), **given})
    return search(models, page, actor)


@router.get("/tickets/{ticket_id}")
def ticket_summary(ticket_id: UUID, models: ReadModelsDep, actor: CurrentActor,
                   _: TicketsConsistent) -> dict[str, Any]:
    """The ticket's current summary, from the read model."""
    with models.cursor() as cur:
        cur.execute(SQL("SELECT state FROM {} WHERE id = %s").format(models.table("ticket_summary")), (ticket_id,))
        row = cur.fetchone()
    if row is None:
        raise NotFound("ticket not found")
    ticket = ticket_state.load(row["state"])
    policy.require_view(actor, ticket)
    return visible_state(ticket, actor)


@router.post("/views", status_code=201, response_model=SavedView)
def save_view(body: SaveView, models: ReadModelsDep, actor: CurrentActor) -> SavedView:
    """Save a search as a named view of your own."""
    view_id = uuid.uuid4()
    with models.datastore.transaction(commit=True) as cur:
        cur.execute(SQL("INSERT INTO {} (id, owner_id, name, filters) VALUES (%s, %s, %s, %s)"
                        " ON CONFLICT (owner_id, name) DO NOTHING").format(models.table("saved_views")),
                    (view_id, actor.id, body.name, Jsonb(body.filters.model_dump(mode="json", exclude_unset=True))))
        if cur.rowcount == 0:
            raise DomainError(f"you have a view named {body.name!r} already", code="view.name_taken")
    return SavedView(id=view_id, name=body.name, filters=body.filters)


@router.get("/views", response_model=list[SavedView])
def list_views(models: ReadModelsDep, actor: CurrentActor) -> list[dict[str, Any]]:
    """Your saved views."""
    with models.cursor() as cur:
        cur.execute(SQL("SELECT id, name, filters FROM {} WHERE owner_id = %s ORDER BY name")
                    .format(models.table("saved_views")), (actor.id,))
        return cur.fetchall()
