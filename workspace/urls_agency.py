"""The workspace's agency office pages (included by workspace/urls.py under the workspace namespace):
the filing (机构备案), the accounts (账号) and the contracts (合同), the enterprise's and the
regulator's view of contracts included."""

from django.urls import path

from workspace.views import agency, dossier

urlpatterns: list = [
    path("agency/filing/", agency.filing, name="agency-filing"),
    path("agency/filing/edit/", agency.filing_edit, name="agency-filing-edit"),
    path("agency/filing/submit", agency.filing_submit, name="agency-filing-submit"),
    # The filing dossier's forms (on the filing page) and its files (the agency, its regulators).
    path("agency/filing/documents", dossier.document_add, name="dossier-document-add"),
    path("agency/filing/documents/<int:pk>/delete", dossier.document_delete, name="dossier-document-delete"),
    path("filing-documents/<int:pk>/file", dossier.document_file, name="dossier-document-file"),
    path("agency/filing/qualifications", dossier.qualification_add, name="dossier-qualification-add"),
    path(
        "agency/filing/qualifications/<int:pk>/delete",
        dossier.qualification_delete,
        name="dossier-qualification-delete",
    ),
    path("qualifications/<int:pk>/file", dossier.qualification_file, name="dossier-qualification-file"),
    path("agency/filing/sites", dossier.site_add, name="dossier-site-add"),
    path("agency/filing/sites/<int:pk>/delete", dossier.site_delete, name="dossier-site-delete"),
    path("agency/filing/facilities", dossier.facility_add, name="dossier-facility-add"),
    path("agency/filing/facilities/<int:pk>/delete", dossier.facility_delete, name="dossier-facility-delete"),
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
