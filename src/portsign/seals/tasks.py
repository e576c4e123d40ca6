"""Thin tasks (DESIGN rule 6): fetch, call the domain."""

from __future__ import annotations

from celery import shared_task

from portsign.seals.domain.scans import process_scan


@shared_task
def task_process_scan(*, scan_id: str) -> None:
    process_scan(scan_id=scan_id)
