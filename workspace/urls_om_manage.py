"""The workspace's om manage pages (included by workspace/urls.py under the workspace namespace)."""

urlpatterns: list = []
