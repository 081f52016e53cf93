"""kubeactors."""
