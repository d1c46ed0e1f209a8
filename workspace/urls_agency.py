"""The workspace's agency pages (included by workspace/urls.py under the workspace namespace)."""

urlpatterns: list = []
