"""A CustomResourceDefinition the CRD tests share: Widgets of example.com."""

from __future__ import annotations

import msgspec

from kubeactors.api import CustomResourceDefinition

WIDGET_CRD_YAML = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names:
    plural: widgets
    singular: widget
    kind: Widget
    shortNames: [wd]
    categories: [toys]
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          description: A widget, made to order.
          properties:
            spec:
              type: object
              description: What the widget should be.
              required: [size]
              properties:
                size:
                  type: integer
                  minimum: 1
                  maximum: 10
                  description: How big, from 1 to 10.
                color:
                  type: string
                  enum: [red, blue]
                  default: red
                label:
                  type: string
                  pattern: "^[a-z]+$"
                replicas:
                  type: integer
                extra:
                  type: object
                  x-kubernetes-preserve-unknown-fields: true
            status:
              type: object
              properties:
                replicas:
                  type: integer
                phase:
                  type: string
                selector:
                  type: string
      subresources:
        status: {}
        scale:
          specReplicasPath: .spec.replicas
          statusReplicasPath: .status.replicas
          labelSelectorPath: .status.selector
      additionalPrinterColumns:
        - name: Size
          type: integer
          jsonPath: .spec.size
        - name: Color
          type: string
          jsonPath: .spec.color
        - name: Phase
          type: string
          jsonPath: .status.phase
        - name: Age
          type: date
          jsonPath: .metadata.creationTimestamp
"""


def widget_crd() -> CustomResourceDefinition:
    return msgspec.yaml.decode(WIDGET_CRD_YAML, type=CustomResourceDefinition)
