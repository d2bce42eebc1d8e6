namespace RequestsProxy.JobsManager.Jobs;

/// <summary>How far <see cref="TokenDelivery"/> got: the stage that failed, or <see cref="Delivered"/>.</summary>
internal enum TokenDeliveryStage
{
    Delivered,

    /// <summary>No token was minted.</summary>
    Issue,

    /// <summary>Minted but not in the ledger, so taken back: never delivered, nothing to revoke.</summary>
    Ledger,

    /// <summary>In the ledger; the delivery threw, so the job may or may not hold it.</summary>
    Delivery,
}
