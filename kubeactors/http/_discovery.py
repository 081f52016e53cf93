"""API discovery, legacy (`APIResourceList`) and aggregated (`apidiscovery.k8s.io/v2`)."""

from __future__ import annotations

from typing import Any

from ..api import ResourceKind
from ._kinds import KindIndex

__all__ = [
    "AGGREGATED_MEDIA_TYPE",
    "aggregated_discovery",
    "api_group",
    "api_group_list",
    "api_resource_list",
    "api_versions",
]

AGGREGATED_MEDIA_TYPE = (
    "application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList"
)
"""The content type client-go checks before it trusts an aggregated discovery answer."""

# The verbs a subresource supports, as upstream serves them.
_SUBRESOURCE_VERBS = {
    "status": ["get", "patch", "update"],
    "scale": ["get", "patch", "update"],
    "binding": ["create"],
    "eviction": ["create"],
    "log": ["get"],
}

# The kinds a subresource answers with, when not its resource's own.
_SUBRESOURCE_KINDS = {
    "scale": {"group": "autoscaling", "version": "v1", "kind": "Scale"},
    "binding": {"group": "", "version": "v1", "kind": "Binding"},
    "eviction": {"group": "policy", "version": "v1", "kind": "Eviction"},
}


def api_versions(address: str) -> dict[str, Any]:
    """`/api`: the versions of the core group."""
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": address}],
    }


def api_group(group: str, versions: list[str]) -> dict[str, Any]:
    entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": group,
        "versions": entries,
        "preferredVersion": entries[0],
    }


def api_group_list(kinds: KindIndex) -> dict[str, Any]:
    """`/apis`: every named group (the core group is at `/api`)."""
    groups = []
    for group, versions in kinds.groups().items():
        if group:
            entry = api_group(group, versions)
            groups.append({key: entry[key] for key in ("name", "versions", "preferredVersion")})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_resource_list(kinds: KindIndex, group: str, version: str) -> dict[str, Any] | None:
    """`/api/v1`, `/apis/<group>/<version>`: each resource and subresource with its verbs."""
    served = kinds.in_group_version(group, version)
    if not served:
        return None
    resources: list[dict[str, Any]] = []
    for kind in served:
        entry: dict[str, Any] = {
            "name": kind.plural,
            "singularName": kind.singular_name,
            "namespaced": kind.namespaced,
            "kind": kind.kind,
            "verbs": list(kind.verbs),
        }
        if kind.short_names:
            entry["shortNames"] = list(kind.short_names)
        if kind.categories:
            entry["categories"] = list(kind.categories)
        resources.append(entry)
        for sub in kind.subresources:
            entry = {
                "name": f"{kind.plural}/{sub}",
                "singularName": "",
                "namespaced": kind.namespaced,
                "kind": kind.kind,
                "verbs": _SUBRESOURCE_VERBS.get(sub, ["get"]),
            }
            other = _SUBRESOURCE_KINDS.get(sub)
            if other is not None:
                # As upstream: a subresource answering with another group's kind names
                # it (kubectl drain finds the Eviction's group and version here).
                entry.update(other)
            resources.append(entry)
    group_version = f"{group}/{version}" if group else version
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }


def _aggregated_resource(kind: ResourceKind[Any]) -> dict[str, Any]:
    response_kind = {"group": kind.group, "version": kind.version, "kind": kind.kind}
    entry: dict[str, Any] = {
        "resource": kind.plural,
        "responseKind": response_kind,
        "scope": "Namespaced" if kind.namespaced else "Cluster",
        "singularResource": kind.singular_name,
        "verbs": list(kind.verbs),
    }
    if kind.short_names:
        entry["shortNames"] = list(kind.short_names)
    if kind.categories:
        entry["categories"] = list(kind.categories)
    if kind.subresources:
        entry["subresources"] = [
            {
                "subresource": sub,
                "responseKind": _SUBRESOURCE_KINDS.get(sub, response_kind),
                "verbs": _SUBRESOURCE_VERBS.get(sub, ["get"]),
            }
            for sub in kind.subresources
        ]
    return entry


def aggregated_discovery(kinds: KindIndex, *, core: bool, version: str) -> dict[str, Any]:
    """`/api` (core) or `/apis` (the named groups) as one `APIGroupDiscoveryList`."""
    items = []
    for group, versions in kinds.groups().items():
        if (group == "") != core:
            continue
        items.append(
            {
                "metadata": {"name": group},
                "versions": [
                    {
                        "version": v,
                        "resources": [
                            _aggregated_resource(k) for k in kinds.in_group_version(group, v)
                        ],
                        "freshness": "Current",
                    }
                    for v in versions
                ],
            }
        )
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": f"apidiscovery.k8s.io/{version}",
        "metadata": {},
        "items": items,
    }
