from django.urls import path

from . import apis, simulation_apis

urlpatterns = [
    path("policies/simulate/", simulation_apis.PolicySimulateApi.as_view(), name="policy-simulate"),
    path("proposals/", apis.ProposalListCreateApi.as_view(), name="proposal-list"),
    path("proposals/<int:pk>/", apis.ProposalDetailApi.as_view(), name="proposal-detail"),
    path("proposals/<int:pk>/wait/", apis.proposal_wait_api, name="proposal-wait"),
    path("proposals/<int:pk>/cancel/", apis.ProposalCancelApi.as_view(), name="proposal-cancel"),
    path("proposals/<int:pk>/execution/", apis.ProposalExecutionApi.as_view(), name="proposal-execution"),
    path("proposals/<int:pk>/decisions/", apis.DecisionCreateApi.as_view(), name="proposal-decisions"),
    path("proposals/<int:pk>/revisions/", apis.RevisionCreateApi.as_view(), name="proposal-revisions"),
    path("proposals/<int:pk>/claim/", apis.ClaimApi.as_view(), name="proposal-claim"),
    path("proposals/<int:pk>/reassign/", apis.ReassignApi.as_view(), name="proposal-reassign"),
    path("proposals/<int:pk>/review/", apis.PostActionReviewApi.as_view(), name="proposal-review"),
]
