from django.urls import path

from . import apis

urlpatterns = [
    path("proposals/", apis.ProposalListCreateApi.as_view(), name="proposal-list"),
    path("proposals/<int:pk>/", apis.ProposalDetailApi.as_view(), name="proposal-detail"),
    path("proposals/<int:pk>/wait/", apis.proposal_wait_api, name="proposal-wait"),
    path("proposals/<int:pk>/cancel/", apis.ProposalCancelApi.as_view(), name="proposal-cancel"),
    path("proposals/<int:pk>/execution/", apis.ProposalExecutionApi.as_view(), name="proposal-execution"),
    path("proposals/<int:pk>/decisions/", apis.DecisionCreateApi.as_view(), name="proposal-decisions"),
    path("proposals/<int:pk>/review/", apis.PostActionReviewApi.as_view(), name="proposal-review"),
]
