"""协同共治: deliberation halls, co-governance projects, volunteers (issue 15).

Each part appends its models below under its own header; the spine (Division, Grid, Unit, User,
WorkOrder) is referred to, never copied (ARCHITECTURE.md)."""

from django.db import models  # noqa: F401
