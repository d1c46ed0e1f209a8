"""The workspace's agency office pages (included by workspace/urls.py under the workspace namespace):
the filing (机构备案), the accounts (账号) and the contracts (合同), the enterprise's and the
regulator's view of contracts included."""

from django.urls import path

from workspace.views import agency

urlpatterns: list = [
    path("agency/filing/", agency.filing, name="agency-filing"),
    path("agency/filing/edit/", agency.filing_edit, name="agency-filing-edit"),
    path("agency/filing/submit", agency.filing_submit, name="agency-filing-submit"),
    path("agency/accounts/", agency.account_list, name="agency-accounts"),
    path("agency/accounts/<int:pk>/close", agency.account_close, name="agency-account-close"),
    path("contracts/", agency.contract_list, name="contracts"),
    path("contracts/export", agency.contract_export, name="contracts-export"),
    path("contracts/new/", agency.contract_new, name="contract-new"),
    path("contracts/<int:pk>/", agency.contract, name="contract"),
    path("contracts/<int:pk>/accept", agency.contract_accept, name="contract-accept"),
    path("contracts/<int:pk>/refuse", agency.contract_refuse, name="contract-refuse"),
    path("contracts/<int:pk>/propose", agency.contract_propose, name="contract-propose"),
]
