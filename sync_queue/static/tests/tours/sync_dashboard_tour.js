/** @odoo-module */

import { registry } from "@web/core/registry";

/**
 * The Dashboard: a system's card shows its failed messages; clicking the
 * count lists them, and only them.
 */
registry.category("web_tour.tours").add("sync_dashboard_failed_tour", {
    url: "/odoo/action-sync_queue.sync_system_dashboard_action",
    steps: () => [
        {
            trigger: ".o_kanban_record:contains(Tour Dashboard) .o_sync_dashboard_failed:contains(2 Failed)",
            run: "click",
        },
        { trigger: ".o_breadcrumb:contains(Failed: Tour Dashboard)" },
        { trigger: ".o_list_view .o_data_row:contains(Tour dashboard refused)" },
        {
            // the other system's failed message and this system's pending one are not listed
            trigger: ".o_list_view:not(:has(.o_data_row:contains(Tour elsewhere))):not(:has(.o_data_row:contains(Tour pending)))",
        },
        {
            trigger: ".o_list_view:has(.o_data_row:eq(1)):not(:has(.o_data_row:eq(2)))",
        },
    ],
});

/**
 * A partner's form: the Synchronization smart button opens what the suite
 * knows of the partner, its messages and its bindings.
 */
registry.category("web_tour.tours").add("sync_smart_button_tour", {
    steps: () => [
        { trigger: ".o_form_view button[name=action_open_sync_overview]", run: "click" },
        { trigger: ".o_form_view .o_field_widget[name=record_name]:contains(Tour Synchronized)" },
        { trigger: ".o_field_widget[name=message_ids] .o_data_row:contains(Tour partner refused)" },
        { trigger: ".o_field_widget[name=message_ids] .o_data_row:contains(Done)" },
        { trigger: ".o_notebook .nav-link:contains(Bindings)", run: "click" },
        { trigger: ".o_field_widget[name=binding_ids] .o_data_row:contains(tour-77)" },
    ],
});
