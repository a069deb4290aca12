from django.urls import path

from . import views, views_admission

app_name = "services"
urlpatterns = [
    path("near/", views.near, name="near"),
    path("positions/<int:pk>/", views.position_page, name="position"),
    path("coverage/", views.coverage_index, name="coverage_index"),
    path("coverage/<str:code>/", views.coverage, name="coverage"),
    # 社区事务准入 (views_admission)
    path("admission/", views_admission.admission_list, name="admission"),
    path("admission/burden/", views_admission.burden, name="admission_burden"),
    path("admission/department/", views_admission.department, name="admission_department"),
    path("admission/community/", views_admission.community, name="admission_community"),
    path("admission/tasks/<int:pk>/decide/", views_admission.task_decide, name="admission_task_decide"),
    path("admission/reviews/", views_admission.reviews, name="admission_reviews"),
    path("admission/applications/<int:pk>/review/", views_admission.review, name="admission_review"),
]
