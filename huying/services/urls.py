from django.urls import path

from . import views, views_admission, views_desk, views_map, views_setup, views_workers

app_name = "services"
urlpatterns = [
    path("", views.hub, name="hub"),
    path("near/", views.near, name="near"),
    path("positions/<int:pk>/", views.position_page, name="position"),
    path("coverage/", views.coverage_index, name="coverage_index"),
    path("coverage/<str:code>/", views.coverage, name="coverage"),
    path("coverage/<str:code>/map.json", views_map.coverage_map, name="coverage_map"),
    # 社区事务准入 (views_admission)
    path("admission/", views_admission.admission_list, name="admission"),
    path("admission/burden/", views_admission.burden, name="admission_burden"),
    path("admission/department/", views_admission.department, name="admission_department"),
    path("admission/community/", views_admission.community, name="admission_community"),
    path("admission/tasks/<int:pk>/decide/", views_admission.task_decide, name="admission_task_decide"),
    path("admission/reviews/", views_admission.reviews, name="admission_reviews"),
    path("admission/applications/<int:pk>/review/", views_admission.review, name="admission_review"),
    # 社区工作者 and 街道 6+1 (views_workers)
    path("workers/", views_workers.staffing, name="workers_staffing"),
    path("workers/import/", views_workers.roster_import, name="workers_import"),
    path("workers/<str:code>/", views_workers.roster, name="workers_roster"),
    path("offices/<str:code>/", views_workers.offices, name="offices"),
    # 预约与窗口办件 (views_desk)
    path("desk/", views_desk.desk_home, name="desk_home"),
    path("desk/<int:pk>/", views_desk.desk, name="desk"),
    path("desk/<int:pk>/walk-in/", views_desk.walk_in, name="desk_walk_in"),
    path("desk/appointments/<int:pk>/take/", views_desk.appointment_take, name="desk_appointment_take"),
    path("desk/matters/<int:pk>/<str:action>/", views_desk.matter_act, name="desk_matter_act"),
    path("positions/<int:pk>/book/", views_desk.book, name="book"),
    path("bookings/", views_desk.my_bookings, name="my_bookings"),
    path("bookings/<str:token>/", views_desk.booking, name="booking"),
    # 服务阵地设置 (views_setup)
    path("setup/", views_setup.setup_home, name="setup"),
    path("setup/positions/new/", views_setup.position_new, name="setup_position_new"),
    path("setup/positions/<int:pk>/", views_setup.position_edit, name="setup_position"),
    path("setup/positions/<int:pk>/hours/", views_setup.position_hours, name="setup_hours"),
    path("setup/positions/<int:pk>/items/", views_setup.position_items, name="setup_items"),
    path("setup/positions/<int:pk>/desk/", views_setup.position_desk, name="setup_desk"),
    path("setup/catalogue/", views_setup.catalogue, name="setup_catalogue"),
    path("setup/catalogue/new/", views_setup.item_form, name="setup_item_new"),
    path("setup/catalogue/<int:pk>/", views_setup.item_form, name="setup_item"),
    path("setup/admission/", views_setup.admission_versions, name="setup_admission"),
    path("setup/admission/<int:pk>/publish/", views_setup.admission_publish, name="setup_admission_publish"),
    path("setup/burden/", views_setup.burden_entries, name="setup_burden"),
    path("setup/burden/<int:pk>/cut/", views_setup.burden_cut, name="setup_burden_cut"),
    path("setup/workers/", views_setup.workers_choose, name="setup_workers"),
    path("setup/workers/<str:code>/", views_setup.workers_community, name="setup_workers_community"),
]
