/** @odoo-module */

import { registry } from "@web/core/registry";

// Odoo 18.0 and 19.0 keep the tour utilities in different modules: the steps are written out here.
// Crons do not run in tests: test_tour_compare.py runs the comparison between the first tour and the second.

function openMenu(section, xmlid) {
    return [
        { trigger: `.o_menu_sections [data-menu-xmlid="${section}"]`, run: "click" },
        { trigger: `.dropdown-item[data-menu-xmlid="${xmlid}"]`, run: "click" },
    ];
}

/** Open a comparison of the Webshop from Queue > Reconciliation > Comparisons. */
function openComparison() {
    return [
        ...openMenu("sync_base.sync_menu_queue", "sync_queue.sync_compare_run_menu"),
        { trigger: ".o_list_view .o_data_row:contains(Webshop) td[name=system_id]", run: "click" },
        { trigger: ".o_form_view .o_statusbar_status button[aria-checked=true]:contains(Done)" },
    ];
}

/** The admin opens the system's form and presses Compare: the comparison opens, queued. */
registry.category("web_tour.tours").add("sync_compare_start_tour", {
    url: "/odoo/action-sync_base.sync_system_action",
    steps: () => [
        { trigger: ".o_list_view .o_data_row:contains(Webshop) td[name=name]", run: "click" },
        { trigger: ".o_breadcrumb:contains(Webshop)" },
        { trigger: ".o_form_view .o_statusbar_buttons button[name=action_compare]", run: "click" },
        { trigger: ".o_form_view .o_field_widget[name=system_id]:contains(Webshop)" },
        { trigger: ".o_form_view .o_field_widget[name=data_type_id]:contains(Contacts)" },
        { trigger: ".o_form_view .o_statusbar_status button[aria-checked=true]:contains(Queued)" },
        // queued: it can be stopped, there is nothing to repair yet
        { trigger: ".o_form_view .o_statusbar_buttons button[name=action_stop]" },
        { trigger: ".o_form_view .o_statusbar_buttons:not(:has(button[name=action_repair]))" },
    ],
});

/** The comparison is done: its counts, and the records out of step with what differs. */
registry.category("web_tour.tours").add("sync_compare_result_tour", {
    url: "/odoo/action-sync_queue.sync_system_dashboard_action",
    steps: () => [
        ...openComparison(),
        { trigger: ".o_form_view .o_field_widget[name=total_count]:contains(5)" },
        { trigger: ".o_form_view .o_field_widget[name=in_step_count]:contains(3)" },
        { trigger: ".o_form_view .o_field_widget[name=differs_count]:contains(1)" },
        { trigger: ".o_form_view .o_field_widget[name=missing_count]:contains(1)" },
        { trigger: ".o_form_view .oe_stat_button[name=action_view_lines]:contains(2)" },
        {
            trigger: ".o_field_widget[name=line_ids] .o_data_row:contains(Grace Hopper):contains(Differs)"
                + ":contains(email: grace@example.com \u2192 grace@navy.example)",
        },
        { trigger: ".o_field_widget[name=line_ids] .o_data_row:contains(Alan Turing):contains(Missing There)" },
        // records in step are counted, not listed
        { trigger: ".o_field_widget[name=line_ids]:not(:has(.o_data_row:contains(Ada Lovelace)))" },
        { trigger: ".o_form_view .o_statusbar_buttons button.btn-primary[name=action_repair]" },
    ],
});

/**
 * The admin repairs the record that differs from the Findings list, then the
 * rest from the comparison's form: each is queued again.
 */
registry.category("web_tour.tours").add("sync_compare_repair_tour", {
    url: "/odoo/action-sync_queue.sync_system_dashboard_action",
    steps: () => [
        ...openMenu("sync_base.sync_menu_queue", "sync_queue.sync_compare_line_menu"),
        { trigger: ".o_facet_values:contains(Out of Step)" },
        { trigger: ".o_list_view .o_data_row:contains(Alan Turing)" },
        { trigger: ".o_list_view .o_data_row:contains(Grace Hopper) .o_list_record_selector input", run: "click" },
        { trigger: ".o_control_panel button[name=action_repair]", run: "click" },
        { trigger: ".o_notification:contains(queued again) .o_notification_close", run: "click" },
        { trigger: "body:not(:has(.o_notification))" },
        // the list shows what is not repaired yet
        { trigger: ".o_list_view:not(:has(.o_data_row:contains(Grace Hopper)))" },
        { trigger: ".o_list_view .o_data_row:contains(Alan Turing)" },
        ...openComparison(),
        { trigger: ".o_form_view .o_statusbar_buttons button[name=action_repair]", run: "click" },
        { trigger: ".o_notification:contains(queued again)" },
        {
            trigger: ".o_field_widget[name=line_ids] .o_data_row:contains(Alan Turing)"
                + " td[name=repaired] input:checked",
        },
        {
            trigger: ".o_field_widget[name=line_ids] .o_data_row:contains(Grace Hopper)"
                + " td[name=repaired] input:checked",
        },
    ],
});
