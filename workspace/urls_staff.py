"""The workspace's staff pages (included by workspace/urls.py under the workspace namespace)."""

urlpatterns: list = []
