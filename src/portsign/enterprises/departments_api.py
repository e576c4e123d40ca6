"""`/api/v1/enterprises/{enterprise_id}/departments…` (issue 16 point 9): an enterprise's
departments and who belongs to them. Handlers translate; rules live in domain/departments.py.

Registered on the enterprises router itself (`enterprises.api.router`), like the contracts'
draft API, so every enterprise path resolves through one router."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Status

from portsign.accounts.backends import signed_in_user
from portsign.enterprises.api import router
from portsign.enterprises.domain import departments
from portsign.enterprises.schemas import DepartmentIn, DepartmentOut, DepartmentPatch


def _out(request: HttpRequest, enterprise_id: str, department_id: str) -> DepartmentOut:
    return DepartmentOut.of(
        departments.department_of(
            actor=signed_in_user(request),
            enterprise_id=enterprise_id,
            department_id=department_id,
        )
    )


@router.get(
    "/{enterprise_id}/departments",
    response=list[DepartmentOut],
    summary="Departments, with their members and seals",
)
def list_departments(request: HttpRequest, enterprise_id: str) -> list[DepartmentOut]:
    rows = departments.departments_of(actor=signed_in_user(request), enterprise_id=enterprise_id)
    return [DepartmentOut.of(d) for d in rows]


@router.post(
    "/{enterprise_id}/departments", response={201: DepartmentOut}, summary="Create a department"
)
def create_department(
    request: HttpRequest, enterprise_id: str, payload: DepartmentIn
) -> Status[DepartmentOut]:
    department = departments.create_department(
        actor=signed_in_user(request),
        enterprise_id=enterprise_id,
        name=payload.name,
        parent_id=payload.parent_id,
    )
    return Status(201, _out(request, enterprise_id, department.id))


@router.patch(
    "/{enterprise_id}/departments/{department_id}",
    response=DepartmentOut,
    summary="Rename a department or move it under another",
)
def update_department(
    request: HttpRequest, enterprise_id: str, department_id: str, payload: DepartmentPatch
) -> DepartmentOut:
    departments.update_department(
        actor=signed_in_user(request),
        enterprise_id=enterprise_id,
        department_id=department_id,
        name=payload.name,
        parent_id=payload.parent_id,
    )
    return _out(request, enterprise_id, department_id)


@router.delete(
    "/{enterprise_id}/departments/{department_id}",
    response={204: None},
    summary="Delete a department (refused while it holds a seal)",
)
def delete_department(request: HttpRequest, enterprise_id: str, department_id: str) -> Status[None]:
    departments.delete_department(
        actor=signed_in_user(request), enterprise_id=enterprise_id, department_id=department_id
    )
    return Status(204, None)


@router.put(
    "/{enterprise_id}/departments/{department_id}/members/{member_id}",
    response=DepartmentOut,
    summary="Put a member into a department",
)
def add_department_member(
    request: HttpRequest, enterprise_id: str, department_id: str, member_id: str
) -> DepartmentOut:
    departments.add_member(
        actor=signed_in_user(request),
        enterprise_id=enterprise_id,
        department_id=department_id,
        member_id=member_id,
    )
    return _out(request, enterprise_id, department_id)


@router.delete(
    "/{enterprise_id}/departments/{department_id}/members/{member_id}",
    response={204: None},
    summary="Take a member out of a department",
)
def remove_department_member(
    request: HttpRequest, enterprise_id: str, department_id: str, member_id: str
) -> Status[None]:
    departments.remove_member(
        actor=signed_in_user(request),
        enterprise_id=enterprise_id,
        department_id=department_id,
        member_id=member_id,
    )
    return Status(204, None)
