"""What a ticket search may ask for: the query parameters of GET /tickets, and a saved view."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold U+0000
Short = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=NO_NUL)]
Status = Literal["new", "open", "in_progress", "pending", "resolved", "closed", "merged"]
Priority = Literal["low", "normal", "high", "urgent"]


class SearchFilters(BaseModel):
    """Every filter ANDs with the others; a list matches any of its values."""

    model_config = ConfigDict(extra="forbid")

    q: Annotated[str, StringConstraints(max_length=200, pattern=NO_NUL)] | None = Field(
        None, description="Chinese (2+ characters), English words or prefixes, a ticket number, a phone "
                          "(or its last 4+ digits), an email")
    status: Annotated[list[Status], Field(max_length=7)] = []
    priority: Annotated[list[Priority], Field(max_length=4)] = []
    category: Short | None = None
    team: Short | None = None
    assignee: Short | None = None
    tags: Annotated[list[Short], Field(max_length=20)] = []
    tags_mode: Literal["any", "all"] = "any"
    customer: Short | None = None
    tier: Short | None = None
    region: Short | None = None
    channel: Literal["web", "email", "phone", "wechat", "api"] | None = None
    created_from: AwareDatetime | None = None
    created_to: AwareDatetime | None = None
    updated_from: AwareDatetime | None = None
    updated_to: AwareDatetime | None = None


class SearchPage(SearchFilters):
    """Filters plus ordering and a page."""

    sort: Literal["relevance", "created", "updated", "priority"] | None = Field(
        None, description="updated (the default), created, priority, or relevance (among the 1,000 most recently "
                          "updated matches)")
    limit: Annotated[int, Field(ge=1, le=100)] = 20
    cursor: Annotated[str, StringConstraints(max_length=500, pattern=NO_NUL)] | None = None
    view: Annotated[str, StringConstraints(max_length=64, pattern=NO_NUL)] | None = Field(None, description="A saved view's id")
    after: Annotated[int, Field(ge=0, le=2**62)] | None = None
