"""Thin tasks (DESIGN rule 6): fetch, call the domain."""

from __future__ import annotations

from celery import shared_task

from portsign.contracts.domain.bulk import TASK, process


@shared_task(name=TASK)
def task_process_bulk_send(*, job_id: str) -> None:
    process(job_id)
